"""The vocabularies the finder speaks, with SAMHSA's codes where one exists.

Curators can add entries in admin; this list is what every database starts
with (loaded by migration 0002 and kept in step by `manage.py sync_vocabulary`).
Each entry: (code, label, plain-language description[, parent code]).
"""

LEVEL_OF_CARE = "level_of_care"
OWNERSHIP = "ownership"
PAYMENT = "payment"
ASSISTANCE = "assistance"
POPULATION = "population"
AGE = "age"
GENDER = "gender"
LANGUAGE = "language"
MEDICATION = "medication"
APPROACH = "approach"
THERAPY = "therapy"
CONDITION = "condition"
SERVICE = "service"
ACCREDITATION = "accreditation"

GROUP_CHOICES = [
    (LEVEL_OF_CARE, "Level of care"),
    (OWNERSHIP, "Ownership (facility operation)"),
    (PAYMENT, "Payment accepted"),
    (ASSISTANCE, "Payment assistance"),
    (POPULATION, "Population served"),
    (AGE, "Age group"),
    (GENDER, "Gender accepted"),
    (LANGUAGE, "Language"),
    (MEDICATION, "Medication"),
    (APPROACH, "Treatment approach"),
    (THERAPY, "Holistic and adjunct therapy"),
    (CONDITION, "Condition treated"),
    (SERVICE, "Service"),
    (ACCREDITATION, "License or accreditation"),
]

# Which Facility field holds each group's terms, in form order: the one map from a
# vocabulary group to a listing field (models, importers, the generator, the API read it).
TERM_FIELD_GROUPS = {
    "levels_of_care": LEVEL_OF_CARE,
    "payment_options": PAYMENT,
    "payment_assistance": ASSISTANCE,
    "populations": POPULATION,
    "age_groups": AGE,
    "genders": GENDER,
    "languages": LANGUAGE,
    "medications": MEDICATION,
    "approaches": APPROACH,
    "therapies": THERAPY,
    "conditions": CONDITION,
    "services": SERVICE,
    "accreditations": ACCREDITATION,
}
# The same map the other way round; GROUP_FIELDS adds ownership (one foreign key, not a list).
TERM_GROUP_FIELDS = {group: field for field, group in TERM_FIELD_GROUPS.items()}
GROUP_FIELDS = {**TERM_GROUP_FIELDS, OWNERSHIP: "ownership"}

VOCABULARY = {
    LEVEL_OF_CARE: [
        ("OIT", "Intensive outpatient (IOP)",
         "Structured treatment for 6 to 30 hours a week while living at home (ASAM level 2.1)."),
        ("ODT", "Partial hospitalization / day treatment (PHP)",
         "Treatment most of the day, several days a week, without an overnight stay (ASAM 2.5)."),
        ("ORT", "Regular outpatient",
         "Counseling or therapy sessions, usually under 9 hours a week (ASAM level 1)."),
        ("OMB", "Outpatient medication treatment",
         "Outpatient methadone, buprenorphine or naltrexone treatment."),
        ("OD", "Outpatient detox", "Supervised withdrawal without an overnight stay."),
        ("HID", "Hospital inpatient detox", "Medically managed withdrawal in a hospital."),
        ("HIT", "Hospital inpatient treatment", "Round-the-clock treatment in a hospital."),
        ("RES", "Residential", "Living at the facility while in treatment (length not given)."),
        ("RD", "Residential detox", "Withdrawal management while living at the facility."),
        ("RS", "Short-term residential", "Living at the facility for up to about 30 days."),
        ("RL", "Long-term residential", "Living at the facility for more than about 30 days."),
        ("TELE", "Telehealth", "Sessions by video or phone."),
    ],
    OWNERSHIP: [
        ("PVTP", "Private for-profit", "Run by a private for-profit organization."),
        ("PVTN", "Private non-profit", "Run by a private non-profit organization."),
        ("STG", "State government", "Run by a state government agency."),
        ("LCCG", "Local, county or community government",
         "Run by a regional, county, local, municipal or community government."),
        ("TBG", "Tribal government", "Run by a tribal government."),
        ("FED", "Federal government", "Run by the federal government."),
        ("VAMC", "Department of Veterans Affairs", "A VA facility (federal).", "FED"),
        ("DDF", "Department of Defense", "A military (DoD) facility (federal).", "FED"),
        ("IH", "Indian Health Service", "An Indian Health Service facility (federal).", "FED"),
    ],
    PAYMENT: [
        ("PI", "Private health insurance", "Insurance through an employer or bought privately."),
        ("MD", "Medicaid", "The state and federal program for people with low incomes."),
        ("MC", "Medicare", "Federal insurance for people 65 and older or with disabilities."),
        ("SI", "State-financed insurance (not Medicaid)",
         "Health insurance paid for by the state, other than Medicaid."),
        ("MI", "Military insurance (e.g. TRICARE)",
         "Insurance for service members, veterans and their families."),
        ("SF", "Cash or self-payment", "Paying yourself, without insurance."),
        ("ITU", "IHS/Tribal/Urban (ITU) funds", "Indian Health Service, tribal or urban funds."),
        ("GF", "Government funding or grants",
         "Federal, state, county or local government funds, block grants."),
        ("NP", "No payment accepted (free)", "Treatment is free of charge."),
    ],
    ASSISTANCE: [
        ("SS", "Sliding fee scale", "The fee depends on income and other factors."),
        ("PA", "Payment assistance",
         "Payment plans, financing, grants or scholarships (check with the facility)."),
    ],
    POPULATION: [
        ("AD", "Adolescents", "Programs for teenagers."),
        ("TAY", "Young adults", "Programs for transitional-age young adults (about 18-25)."),
        ("WN", "Adult women", "Programs for women."),
        ("PW", "Pregnant or postpartum women", "Programs for pregnant or new mothers."),
        ("MN", "Adult men", "Programs for men."),
        ("SE", "Seniors or older adults", "Programs for older adults."),
        ("GL", "LGBTQ+ clients", "Programs for lesbian, gay, bisexual, transgender and queer people."),
        ("VET", "Veterans", "Programs for veterans."),
        ("ADM", "Active duty military", "Programs for active duty service members."),
        ("MF", "Military families", "Programs for members of military families."),
        ("CJ", "Court or justice referred", "Programs for clients referred by a court or the justice system."),
        ("DUI", "DUI/DWI clients", "Programs for people charged with driving under the influence."),
        ("CO", "Co-occurring disorders",
         "Programs for people with both mental health and substance use disorders."),
        ("SMI", "Serious mental illness", "Programs for people with serious mental illness."),
        ("HV", "People with HIV or AIDS", "Programs for people living with HIV or AIDS."),
        ("XA", "Survivors of sexual abuse", "Programs for people who experienced sexual abuse."),
        ("DV", "Domestic violence survivors",
         "Programs for people who experienced intimate partner or domestic violence."),
        ("TRMA", "Trauma survivors", "Programs for people who experienced trauma."),
        ("PTSD", "People with PTSD", "Programs for people with post-traumatic stress disorder."),
        ("TBI", "Traumatic brain injury", "Programs for people with a traumatic brain injury."),
        ("ALZ", "Alzheimer's or dementia", "Programs for people with Alzheimer's or dementia."),
        ("SED", "Children with serious emotional disturbance",
         "Programs for children or adolescents with serious emotional disturbance."),
        ("EDP", "Eating disorders", "Programs for people with eating disorders."),
    ],
    AGE: [
        ("CHLD", "Children and adolescents", "Under 18."),
        ("YAD", "Young adults", "About 18 to 25."),
        ("ADLT", "Adults", "18 and older."),
        ("SNR", "Seniors", "65 and older."),
    ],
    GENDER: [
        ("FEM", "Female", "Accepts female clients."),
        ("MALE", "Male", "Accepts male clients."),
    ],
    LANGUAGE: [
        ("SP", "Spanish", "Services in Spanish."),
        ("AH", "Deaf and hard of hearing", "Services for the deaf and hard of hearing (e.g. ASL)."),
        ("ZH", "Chinese", "Services in Chinese."),
        ("VI", "Vietnamese", "Services in Vietnamese."),
        ("KO", "Korean", "Services in Korean."),
        ("AR", "Arabic", "Services in Arabic."),
        ("RU", "Russian", "Services in Russian."),
        ("FR", "French", "Services in French."),
        ("HT", "Haitian Creole", "Services in Haitian Creole."),
        ("TL", "Tagalog", "Services in Tagalog."),
        ("NAV", "Native American or Alaska Native languages",
         "Services in an American Indian or Alaska Native language."),
        ("OTH", "Other languages", "Services in another language (ask the facility)."),
    ],
    MEDICATION: [
        ("BU", "Buprenorphine", "Medication for opioid use disorder."),
        ("BWN", "Buprenorphine with naloxone", "Buprenorphine combined with naloxone (e.g. Suboxone)."),
        ("BWON", "Buprenorphine without naloxone", "Buprenorphine alone."),
        ("BERI", "Buprenorphine extended-release injection", "Monthly buprenorphine injection."),
        ("METH", "Methadone", "Medication for opioid use disorder, given at an opioid treatment program."),
        ("NU", "Naltrexone (oral)", "Daily pill for alcohol or opioid use disorder."),
        ("VTRL", "Naltrexone extended-release injection",
         "Monthly naltrexone injection (e.g. Vivitrol)."),
        ("ACM", "Acamprosate", "Medication for alcohol use disorder."),
        ("DSF", "Disulfiram", "Medication for alcohol use disorder (Antabuse)."),
        ("NXN", "Naloxone", "Overdose-reversal medication."),
        ("MPD", "Medications for psychiatric disorders",
         "Psychiatric medication such as antidepressants."),
    ],
    APPROACH: [
        ("CBT", "Cognitive behavioral therapy", "Changing patterns of thinking and behavior."),
        ("DBT", "Dialectical behavior therapy", "Skills for emotions, distress and relationships."),
        ("MI", "Motivational interviewing", "Finding and strengthening your own reasons to change."),
        ("CM", "Contingency management", "Rewards for meeting treatment goals."),
        ("MXM", "Matrix Model", "A structured program for stimulant use."),
        ("TSF", "12-step facilitation", "Preparing for and joining 12-step mutual-help groups."),
        ("TRC", "Trauma-related counseling", "Counseling that addresses past trauma."),
        ("REL", "Relapse prevention", "Recognizing and handling the risk of relapse."),
        ("ANG", "Anger management", "Skills for handling anger."),
        ("BRI", "Brief intervention", "Short, focused counseling."),
        ("SAC", "Substance use counseling", "Counseling about substance use."),
        ("CRV", "Community reinforcement plus vouchers", "Rewarding recovery with vouchers."),
        ("IPT", "Interpersonal therapy", "Therapy focused on relationships."),
        ("FAM", "Family therapy", "Therapy that includes family members."),
        ("GRP", "Group therapy", "Therapy in a small group led by a counselor."),
        ("IND", "Individual psychotherapy", "One-on-one therapy."),
        ("CPL", "Couples therapy", "Therapy for couples."),
        ("EMDR", "EMDR", "Eye movement desensitization and reprocessing, for trauma."),
    ],
    THERAPY: [
        ("ART", "Art therapy", ""),
        ("MUS", "Music therapy", ""),
        ("DAN", "Dance or movement therapy", ""),
        ("DRA", "Drama therapy", ""),
        ("YOGA", "Yoga", ""),
        ("MED", "Meditation or mindfulness", ""),
        ("TAI", "Tai chi", ""),
        ("BRE", "Breathwork", ""),
        ("ACU", "Acupuncture", ""),
        ("MAS", "Massage", ""),
        ("BIO", "Biofeedback", ""),
        ("SND", "Sound therapy", ""),
        ("EQU", "Equine therapy", ""),
        ("NAT", "Nature or adventure therapy", ""),
        ("NUT", "Nutrition counseling", ""),
        ("FIT", "Fitness or recreation", ""),
    ],
    CONDITION: [
        ("ALC", "Alcohol use", ""),
        ("OPI", "Opioid use", ""),
        ("STIM", "Stimulant use (cocaine, methamphetamine)", ""),
        ("RX", "Prescription drug misuse", ""),
        ("CAN", "Cannabis use", ""),
        ("DEP", "Depression", ""),
        ("ANX", "Anxiety", ""),
        ("PTSD", "PTSD and trauma", ""),
        ("BIP", "Bipolar disorder", ""),
        ("PERS", "Personality disorders", ""),
        ("OCD", "Obsessive-compulsive disorder", ""),
        ("PHOB", "Phobias", ""),
        ("EAT", "Eating disorders", ""),
        ("COD", "Co-occurring disorders", "Substance use and mental health disorders together."),
        ("GAMB", "Gambling", ""),
        ("BEH", "Other behavioral addictions", ""),
    ],
    SERVICE: [
        ("ASMT", "Assessment and treatment plan", ""),
        ("GRPC", "Group counseling", ""),
        ("INDC", "Individual counseling", ""),
        ("FAMC", "Family counseling and education", ""),
        ("CPLC", "Couples counseling", ""),
        ("CSM", "Case management", ""),
        ("PSED", "Psychoeducation", ""),
        ("AFT", "Aftercare and discharge planning", ""),
        ("DRUG", "Drug and alcohol screening", ""),
        ("PSY", "Psychiatric services", ""),
        ("MHS", "Mutual-help (12-step) groups", ""),
        ("VOC", "Life and vocational skills", ""),
        ("TRAN", "Transportation assistance", ""),
        ("HOU", "Housing services", ""),
        ("CHC", "Child care", ""),
        ("PRS", "Peer recovery support", ""),
        ("ACT", "Assertive community treatment", "A team that brings treatment to the person."),
        ("SOC", "Help obtaining social services", ""),
        ("CRIS", "Crisis and emergency services", "Crisis intervention or psychiatric emergency walk-in."),
        ("SUIC", "Suicide prevention", ""),
        ("HED", "Health education (HIV, hepatitis and other)", ""),
    ],
    ACCREDITATION: [
        ("SSA", "State substance use agency", "Licensed or certified by the state substance use agency."),
        ("SMHA", "State mental health department", "Licensed or certified by the state mental health department."),
        ("SDH", "State department of health", "Licensed or certified by the state department of health."),
        ("HLA", "Hospital licensing authority", ""),
        ("JC", "The Joint Commission", "Accredited by The Joint Commission."),
        ("CARF", "CARF", "Accredited by the Commission on Accreditation of Rehabilitation Facilities."),
        ("NCQA", "NCQA", "Accredited by the National Committee for Quality Assurance."),
        ("COA", "Council on Accreditation", ""),
        ("HFAP", "HFAP", "Healthcare Facilities Accreditation Program."),
        ("SAMHSA", "SAMHSA certification", "Certified as an opioid treatment program by SAMHSA."),
        ("DEA", "Drug Enforcement Administration", "Registered with the DEA."),
    ],
}  # fmt: skip


def sync_vocabulary(term_model):
    """Create or update every built-in term; never deletes what curators added."""
    for group, entries in VOCABULARY.items():
        for position, entry in enumerate(entries):
            code, label, description, *rest = entry
            term_model.objects.update_or_create(
                group=group,
                code=code,
                defaults={"label": label, "description": description, "sort_order": position},
            )
        for code, *_, parent_code in (entry for entry in entries if len(entry) == 4):
            parent = term_model.objects.get(group=group, code=parent_code)
            term_model.objects.filter(group=group, code=code).update(parent=parent)
