from django.urls import path

from apps.cards import views

app_name = "cards"

urlpatterns = [
    path("modules/<id:category_id>/", views.changelist, name="changelist"),
    path("modules/<id:category_id>/add/", views.card_add, name="add"),
    path("modules/<id:category_id>/export/", views.changelist_export, name="export"),
    path("modules/<id:category_id>/board/", views.board, name="board"),
    path("modules/<id:category_id>/board/move/", views.board_move, name="board_move"),
    path("modules/<id:category_id>/bulk/", views.bulk_action, name="bulk"),
    path("modules/<id:category_id>/columns/", views.columns_choose_view, name="columns"),
    path("modules/<id:category_id>/filters/", views.saved_filter_add_view, name="filter_add"),
    path(
        "modules/<id:category_id>/filters/<id:filter_id>/delete/",
        views.saved_filter_delete_view,
        name="filter_delete",
    ),
    path("cards/<id:card_id>/", views.card_page, name="card"),
    path("cards/<id:card_id>/change/", views.card_edit, name="change"),
    path("cards/<id:card_id>/fields/<str:name>/", views.card_field, name="field"),
    path("cards/<id:card_id>/status/", views.card_status, name="status"),
    path("cards/<id:card_id>/refresh/", views.card_refresh_view, name="refresh"),
]
