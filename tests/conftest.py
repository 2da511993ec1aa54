import pytest


@pytest.fixture
def terms(db):
    """Look up a vocabulary term: terms("payment", "MD")."""
    from facilities.models import Term

    def get(group, code):
        return Term.objects.get(group=group, code=code)

    return get
