from django.urls import path

from apps.writes import views

app_name = "writes"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/<id:write_id>/retry/", views.retry, name="retry"),
    path("queue/<id:write_id>/discard/", views.discard, name="discard"),
    path("queue/<id:write_id>/undo/", views.undo, name="undo"),
    path("queue/jobs/<id:job_id>/", views.job, name="job"),
    path("audit/", views.audit, name="audit"),
]
