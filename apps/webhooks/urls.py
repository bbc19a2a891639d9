from django.urls import path

from apps.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("hooks/<slug:slug>/", views.receive, name="receive"),
    path("webhooks/", views.handlers, name="handlers"),
    path("webhooks/add/", views.handler_edit, name="add"),
    path("webhooks/<int:handler_id>/", views.handler_page, name="handler"),
    path("webhooks/<int:handler_id>/change/", views.handler_edit, name="change"),
    path("webhooks/<int:handler_id>/test/", views.handler_test, name="test"),
    path("webhooks/<int:handler_id>/rotate/", views.handler_rotate_view, name="rotate"),
    path("webhooks/<int:handler_id>/delete/", views.handler_delete_view, name="delete"),
    path("webhooks/events/", views.events, name="events"),
    path("webhooks/events/<int:event_id>/", views.event_page, name="event"),
    path("webhooks/events/<int:event_id>/replay/", views.event_replay_view, name="replay"),
]
