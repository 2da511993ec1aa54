import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Cached vocabularies and summaries must not leak between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def terms(db):
    """Look up a vocabulary term: terms("payment", "MD")."""
    from facilities.models import Term

    def get(group, code):
        return Term.objects.get(group=group, code=code)

    return get


@pytest.fixture
def curator(db):
    """A staff user whose only powers come from the Curators group."""
    from django.contrib.auth.models import Group, User

    from facilities.permissions import CURATORS_GROUP

    user = User.objects.create_user("casey", "casey@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    return user


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def superuser_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    return client
