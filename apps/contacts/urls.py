from django.urls import path

from apps.contacts import views

app_name = "contacts"

urlpatterns = [
    path("contacts/", views.search, name="search"),
    path("contacts/add/", views.contact_add, name="add"),
    path("contacts/export/", views.search_export, name="export"),
    path("contacts/<id:contact_id>/", views.contact_page, name="contact"),
    path("contacts/<id:contact_id>/refresh/", views.contact_refresh_view, name="refresh"),
    path("contacts/<id:contact_id>/change/", views.contact_edit, name="change"),
    path("contacts/<id:contact_id>/delete/", views.contact_delete, name="delete"),
]
