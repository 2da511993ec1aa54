"""Forms of the public pages (the search form is the FilterSet's)."""

from django import forms
from django.core.cache import cache

from .access import client_ip
from .models import ProblemReport

REPORTS_PER_HOUR = 5
RATE_WINDOW_SECONDS = 3600


class ProblemReportForm(forms.ModelForm):
    # Hidden from people by CSS; bots that fill every field give themselves away.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    class Meta:
        model = ProblemReport
        fields = ["category", "message", "contact"]
        labels = {
            "category": "What kind of problem is it?",
            "message": "What is wrong?",
            "contact": "Your email or phone (optional)",
        }
        help_texts = {
            "message": "For example: the phone number no longer works, or the program closed.",
            "contact": "Only if you are happy for a curator to contact you about this report. "
            "We never show it on the site.",
        }
        widgets = {
            "category": forms.RadioSelect,
            "message": forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
            "contact": forms.TextInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = ProblemReport.Category.choices

    def clean_message(self):
        message = self.cleaned_data["message"].strip()
        if len(message) < 5:
            raise forms.ValidationError("Please tell us in a few words what is wrong.")
        return message

    @property
    def is_spam(self):
        return bool(self.cleaned_data.get("website"))


def report_rate_limited(request):
    """Count one report from this client; True when it is over REPORTS_PER_HOUR this hour."""
    key = f"facilities:report-rate:{client_ip(request)}"
    if cache.add(key, 1, RATE_WINDOW_SECONDS):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, RATE_WINDOW_SECONDS)
        return False
    return count > REPORTS_PER_HOUR
