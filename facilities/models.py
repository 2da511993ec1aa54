"""The facility data model: listings (places), their service lines (programs), and the
vocabularies they are described in."""

from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.dispatch import Signal
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from . import vocabulary as vocab
from .geo import zip_centroid
from .states import STATE_CHOICES, state_name
from .text import city_slug, normalize_city

zip_validator = RegexValidator(r"^\d{5}(-\d{4})?$", "Enter a 5-digit ZIP code (or ZIP+4).")
phone_validator = RegexValidator(
    r"^[0-9()+.\- ]{7,}(\s*(x|ext\.?)\s*\d+)?$",
    "Enter a phone number such as 601-555-0100 (an extension like x12 may follow).",
)


# Sent after a bulk write changed listings or vocabularies (no save() signals are sent
# for those); data_version.py raises the data version on it, so cached figures change.
data_changed = Signal()


class VersionedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Bulk writes (admin actions, imports, bulk_update) raise the version too,
        # so an edit form opened before them is refused instead of overwriting them.
        kwargs.setdefault("version", models.F("version") + 1)
        count = super().update(**kwargs)
        if count:
            data_changed.send(sender=self.model)
        return count

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            data_changed.send(sender=self.model)
        return created


class Versioned(models.Model):
    """A row edit forms can check for concurrent changes (optimistic locking, see locking.py)."""

    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up by one on every save."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)


class TermQuerySet(VersionedQuerySet):
    def in_group(self, group):
        return self.filter(group=group)


class TermManager(models.Manager.from_queryset(TermQuerySet)):
    def get_by_natural_key(self, group, code):
        return self.get(group=group, code=code)


class Term(Versioned):
    """One entry of a vocabulary: a payment option, a population, a level of care..."""

    group = models.CharField(max_length=32, choices=vocab.GROUP_CHOICES, db_index=True)
    code = models.CharField(
        max_length=16,
        validators=[RegexValidator(r"^[A-Z0-9_]+$", "Codes are upper-case letters and digits.")],
        help_text="Stable code used in URLs and the API (SAMHSA's where one exists).",
    )
    label = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Filtering on the parent also finds this term (VA counts as federal).",
    )
    sort_order = models.PositiveSmallIntegerField(default=100)

    objects = TermManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "sort_order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="term_unique_code_in_group"),
        ]
        verbose_name = "vocabulary term"

    def __str__(self):
        return self.label

    def natural_key(self):
        return (self.group, self.code)


# A service line's many-to-many fields onto the vocabularies, in form order.
TERM_FIELDS = list(vocab.TERM_FIELD_GROUPS)


# Link tables the search filters on get an index on (term_id, serviceline_id) too
# (migration 0007): "every line with term X" is then read from the index alone,
# for counts and summaries; Django's own (serviceline_id, term_id) index serves the
# EXISTS probe of one line.
FILTERED_TERM_FIELDS = [
    "levels_of_care",
    "payment_options",
    "populations",
    "age_groups",
    "languages",
    "medications",
]


def _terms(field_name, verbose_name):
    """The many-to-many field `field_name` onto its vocabulary group (TERM_FIELD_GROUPS)."""
    return models.ManyToManyField(
        Term,
        blank=True,
        limit_choices_to={"group": vocab.TERM_FIELD_GROUPS[field_name]},
        related_name="+",
        verbose_name=verbose_name,
    )


class FacilityQuerySet(VersionedQuerySet):
    def published(self):
        return self.filter(status=Facility.Status.PUBLISHED)


class FacilityManager(models.Manager.from_queryset(FacilityQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Facility(Versioned):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by a curator"
        FINDTREATMENT = "findtreatment", "FindTreatment.gov import"
        DEMO = "demo", "Demo data (fictional)"
        SYNTHETIC = "synthetic", "Generated (fictional)"

    FICTIONAL_SOURCES = {Source.DEMO, Source.SYNTHETIC}

    # Identity and contact
    name = models.CharField(max_length=200)
    program_name = models.CharField("program or site name", max_length=200, blank=True)
    slug = models.SlugField(
        max_length=220,
        unique=True,
        blank=True,
        help_text="Set once from the name; the page address.",
    )
    street1 = models.CharField("street address", max_length=200, blank=True)
    street2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    city_key = models.CharField(
        max_length=100, editable=False, help_text="Normalized city for matching ('saint louis')."
    )
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    zip = models.CharField("ZIP code", max_length=10, validators=[zip_validator])
    county = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    location_approximate = models.BooleanField(
        default=False, help_text="Coordinates are the ZIP code's centre, not the building."
    )
    phone = models.CharField(max_length=40, blank=True, validators=[phone_validator])
    intake_phone = models.CharField(max_length=40, blank=True, validators=[phone_validator])
    hotline = models.CharField(max_length=40, blank=True, validators=[phone_validator])
    website = models.URLField(max_length=300, blank=True)
    email = models.EmailField(blank=True)
    description = models.TextField(blank=True)

    # Who runs it and what it offers
    ownership = models.ForeignKey(
        Term,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"group": vocab.OWNERSHIP},
        related_name="+",
        help_text="Facility operation.",
    )
    co_occurring = models.BooleanField(
        "treats co-occurring disorders",
        default=False,
        help_text="Treats substance use and mental health disorders together.",
    )
    # Curation
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    verified_at = models.DateField("last verified", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    source_key = models.CharField(
        max_length=100, blank=True, help_text="The record's id in its source (frid for imports)."
    )
    source_record = models.JSONField(
        null=True, blank=True, editable=False, help_text="The raw imported record, for audit."
    )
    curated_fields = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Fields a curator has edited; imports never overwrite these.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FacilityManager()
    # Who changed what and when (a service line's terms have their own history); the raw
    # import record is audit data of its own and would only bloat every historical row.
    history = HistoricalRecords(excluded_fields=["source_record"])

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="facility_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="facility_longitude_in_range",
            ),
            models.UniqueConstraint(
                fields=["source", "source_key"],
                condition=~models.Q(source_key=""),
                name="facility_unique_source_key",
            ),
        ]
        indexes = [
            # The searches all start from published listings in a state or city.
            models.Index(fields=["status", "state", "city_key"], name="facility_state_city"),
            # Bounding-box prefilter for radius search. Partial (searches show published
            # listings only) and covering id and name (the sort's tie-breakers): a near
            # search reads its page's ids, in distance order, from the index alone (3,000
            # listings in a Los Angeles box: 1 ms instead of 7 ms of scattered table
            # reads), then fetches 20 rows (selectors.CachedCountPaginator). INCLUDE is
            # PostgreSQL's; SQLite builds the index without it.
            models.Index(
                fields=["latitude", "longitude"],
                include=["id", "name"],
                condition=models.Q(status="published"),
                name="facility_published_lat_lng",
            ),
            models.Index(fields=["verified_at"], name="facility_verified"),
            models.Index(fields=["zip"], name="facility_zip"),
            # Published listings of a state in name order (the default sort): a state
            # search's page is the first rows of this index that pass the other filters,
            # with no sort of the state's 11,000 listings. Partial: only what is shown.
            # The last two columns let its count read the index alone (no table rows).
            models.Index(
                fields=["state", "name", "id", "co_occurring", "ownership"],
                condition=models.Q(status="published"),
                name="facility_published_state_name",
            ),
            # Every published listing in name order: lists without a state, and their
            # deep pages (page 200 skips 3,980 index entries instead of sorting 95,000).
            models.Index(
                fields=["name", "id"],
                condition=models.Q(status="published"),
                name="facility_published_name",
            ),
            # The API's Last-Modified is MAX(updated_at): one read at the index's end.
            models.Index(fields=["updated_at"], name="facility_updated"),
        ]

    def __str__(self):
        if self.program_name and self.program_name != self.name:
            return f"{self.name} ({self.program_name})"
        return self.name

    def save(self, *args, **kwargs):
        self.state = (self.state or "").upper()
        self.city_key = normalize_city(self.city)
        if self.latitude is None and self.longitude is None:
            # No coordinates: the ZIP code's centre is close enough to search by distance.
            point = zip_centroid(self.zip)
            if point is not None:
                self.latitude, self.longitude = point
                self.location_approximate = True
        if not self.slug:
            self.slug = self.unique_slug()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return facility_url(self.slug)

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.state:
            self.state = self.state.upper()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("Give both latitude and longitude, or neither.")

    def unique_slug(self):
        base = slugify(f"{self.name} {self.program_name} {self.city} {self.state}")[:200]
        base = base.strip("-") or "facility"
        slug, suffix = base, 2
        while Facility.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, suffix = f"{base}-{suffix}", suffix + 1
        return slug

    @property
    def is_fictional(self):
        return self.source in self.FICTIONAL_SOURCES

    @property
    def state_name(self):
        return state_name(self.state)

    @property
    def city_slug(self):
        return city_slug(self.city)

    @property
    def is_stale(self):
        if not self.verified_at:
            return True
        age = timezone.localdate() - self.verified_at
        return age.days > settings.STALE_AFTER_DAYS


class ServiceLineManager(models.Manager.from_queryset(VersionedQuerySet)):
    def get_by_natural_key(self, slug, kind):
        return self.get(facility__slug=slug, kind=kind)


class ServiceLine(Versioned):
    """One program of a place, as its source describes it: its substance use treatment or
    its mental health treatment, with its own levels of care, payment, populations...

    FindTreatment.gov lists a place once per program and the two rows often differ (an
    IOP paid for yourself beside regular outpatient care on Medicaid): a search's
    conditions must all be met by the same line (search/filters.py). The IOP schedule
    belongs to the line that offers IOP.
    """

    class Kind(models.TextChoices):
        SUBSTANCE_USE = "SA", "Substance use treatment"
        MENTAL_HEALTH = "MH", "Mental health treatment"

    # Indexed with the line's id (Meta.indexes), not alone.
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    kind = models.CharField(max_length=2, choices=Kind.choices, default=Kind.SUBSTANCE_USE)

    levels_of_care = _terms("levels_of_care", "levels of care")
    payment_options = _terms("payment_options", "payment accepted")
    payment_assistance = _terms("payment_assistance", "payment assistance")
    populations = _terms("populations", "populations served")
    age_groups = _terms("age_groups", "age groups")
    genders = _terms("genders", "genders accepted")
    languages = _terms("languages", "languages")
    medications = _terms("medications", "medications")
    approaches = _terms("approaches", "treatment approaches")
    therapies = _terms("therapies", "holistic and adjunct therapies")
    conditions = _terms("conditions", "conditions treated")
    services = _terms("services", "services")
    accreditations = _terms("accreditations", "licensing and accreditation")

    # IOP program details that national locators do not carry
    hours_per_week_min = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(40)]
    )
    hours_per_week_max = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(40)]
    )
    sessions_per_week = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(14)]
    )
    session_length_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(15), MaxValueValidator(600)]
    )
    duration_weeks = models.PositiveSmallIntegerField(
        "typical duration (weeks)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(104)],
    )
    offers_daytime = models.BooleanField("daytime sessions", default=False)
    offers_evening = models.BooleanField("evening sessions", default=False)
    offers_weekend = models.BooleanField("weekend sessions", default=False)
    offers_virtual = models.BooleanField("virtual (telehealth) option", default=False)
    transportation_assistance = models.BooleanField(default=False)

    curated_fields = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Fields a curator has edited; imports never overwrite these.",
    )

    objects = ServiceLineManager()
    history = HistoricalRecords(m2m_fields=TERM_FIELDS)

    class Meta:
        verbose_name = "service line"
        # Substance use first, as FindTreatment.gov lists them.
        ordering = ["facility", "-kind"]
        indexes = [
            # A search asks, for each listing in its box or state, whether one of its lines
            # meets the filters: the lines' ids come from this index alone, no table read
            # (near search c of make bench, 3,092 listings probed: 30 -> 26 ms EXPLAIN ANALYZE).
            models.Index(fields=["facility", "id"], name="line_facility_id"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["facility", "kind"], name="line_one_of_each_kind"),
            models.CheckConstraint(
                condition=models.Q(hours_per_week_min__isnull=True)
                | models.Q(hours_per_week_max__isnull=True)
                | models.Q(hours_per_week_min__lte=models.F("hours_per_week_max")),
                name="line_hours_min_not_above_max",
            ),
        ]

    def __str__(self):
        return self.get_kind_display()

    def natural_key(self):
        return (*self.facility.natural_key(), self.kind)

    natural_key.dependencies = ["facilities.facility"]

    def clean(self):
        from django.core.exceptions import ValidationError

        low, high = self.hours_per_week_min, self.hours_per_week_max
        if low is not None and high is not None and low > high:
            raise ValidationError(
                {"hours_per_week_max": "The maximum hours must be at least the minimum."}
            )

    @property
    def source_rows(self):
        """The listing's source rows that describe this line (FindTreatment's typeFacility)."""
        record = (
            self.facility.source_record if isinstance(self.facility.source_record, dict) else {}
        )
        return [
            row
            for row in record.get("rows") or []
            if isinstance(row, dict) and str(row.get("typeFacility") or "SA") == self.kind
        ]


# The IOP schedule: a service line's own columns, shown with the line that offers IOP.
SCHEDULE_FIELDS = [
    "hours_per_week_min",
    "hours_per_week_max",
    "sessions_per_week",
    "session_length_minutes",
    "duration_weeks",
    "offers_daytime",
    "offers_evening",
    "offers_weekend",
    "offers_virtual",
    "transportation_assistance",
]


def facility_url(slug):
    """A facility page's path from its slug (what reverse() gives, for less)."""
    before, after = _detail_url_around(get_script_prefix(), get_urlconf())
    return before + quote(slug, safe=RFC3986_SUBDELIMS + "/~:@") + after


@lru_cache(maxsize=32)
def _detail_url_around(script_prefix, urlconf):
    """What comes before and after the slug in a facility's URL.

    reverse() costs more than the rest of a result card's data; a page of 50
    listings, or a CSV of 10,000, asks for one URL each. Quoted as reverse() does.
    """
    placeholder = "facility-slug-placeholder"
    url = reverse("facilities:detail", args=[placeholder], urlconf=urlconf)
    before, after = url.split(placeholder)
    return before, after


class ProblemReport(models.Model):
    """'Report a problem with this listing': lands in a queue curators work through."""

    class Category(models.TextChoices):
        PHONE = "phone", "The phone number is wrong"
        ADDRESS = "address", "The address or location is wrong"
        CLOSED = "closed", "The facility has closed or no longer offers IOP"
        SERVICES = "services", "Services, payment or populations are wrong"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        NEW = "new", "New"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="reports")
    category = models.CharField(max_length=16, choices=Category.choices)
    message = models.TextField("what is wrong", max_length=2000)
    contact = models.CharField("your email or phone (optional)", max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    curator_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue")]

    def __str__(self):
        return f"{self.get_category_display()}: {self.facility}"


class DataVersion(models.Model):
    """One row whose number goes up whenever listings or vocabularies change.

    Cached figures and API ETags carry it in their keys (facilities/data_version.py):
    it is written in the same transaction as the change, so every process sees the
    change at once, even with a per-process cache.
    """

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"data version {self.version}"
