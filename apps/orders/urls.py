from django.urls import path

from apps.orders import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.order_index, name="list"),
    path("orders/add/", views.order_add, name="add"),
    path("orders/export/", views.order_list_export, name="export"),
    path("orders/item-row/", views.item_row, name="item_row"),
    path("orders/<id:order_id>/", views.order_page, name="order"),
    path("orders/<id:order_id>/items/", views.order_items, name="items"),
    path("orders/<id:order_id>/items/<id:item_id>/delete/", views.item_delete, name="item_delete"),
    path("orders/<id:order_id>/fields/", views.custom_fields, name="fields"),
    path("orders/<id:order_id>/<str:action>/", views.workflow, name="workflow"),
]
