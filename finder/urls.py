from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "IOP Finder curation"
admin.site.site_title = "IOP Finder admin"
admin.site.index_title = "Listings and vocabularies"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("facilities.urls")),
]

# Also turns database errors raised outside views (session saving...) into a 503.
handler500 = "finder.middleware.server_error"
