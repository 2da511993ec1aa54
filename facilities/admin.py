from django.contrib import admin

from .admin_import import FindTreatmentImportMixin  # FindTreatment.gov import page
from .models import Facility


# FindTreatmentImportMixin (first among the bases) is the import's only hook here;
# the changelist link is templates/admin/facilities/facility/change_list.html.
@admin.register(Facility)
class FacilityAdmin(FindTreatmentImportMixin, admin.ModelAdmin):
    pass
