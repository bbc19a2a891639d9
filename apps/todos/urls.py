from django.urls import path

from apps.todos import views

app_name = "todos"

urlpatterns = [
    path("cards/<id:card_id>/todos/", views.card_todos, name="card_todos"),
    path("cards/<id:card_id>/todos/add/", views.todo_add, name="add"),
    path("todos/<id:todo_id>/change/", views.todo_edit, name="change"),
    path("todos/<id:todo_id>/close/", views.todo_close_view, name="close"),
    path("todos/mine/", views.mine, name="mine"),
]
