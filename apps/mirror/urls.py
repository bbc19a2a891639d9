from django.urls import path

from apps.mirror import views

app_name = "mirror"

urlpatterns = [
    path("sync/", views.sync, name="sync"),
    path("sync/resync/", views.resync_all, name="resync_all"),
    path("sync/contacts/resync/", views.contacts_resync, name="contacts_resync"),
    path("sync/modules/<id:category_id>/resync/", views.module_resync, name="module_resync"),
    path("sync/record/", views.record_resync, name="record_resync"),
]
