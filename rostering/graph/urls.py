"""``/api/v2/graph/``: lists, fetches and sub-lists of the Edlink Graph API (paths without a trailing slash, as
Edlink's client builds them). Anything else under the prefix is Edlink's 404 envelope."""

from django.urls import path, re_path

from rostering.graph import views
from rostering.graph.resources import RESOURCES, SUBLISTS

_ID_PARAMETER = {"districts": "district_id", "schools": "school_id", "sessions": "session_id",
                 "courses": "course_id", "classes": "class_id", "people": "person_id",
                 "enrollments": "enrollment_id"}

urlpatterns = []
for name, resource in RESOURCES.items():
    urlpatterns += [
        path(name, views.ListView.as_view(resource=resource, operation_id=f"graph_{name}_list"),
             name=f"graph_{name}_list"),
        path(f"{name}/<str:id>", views.DetailView.as_view(resource=resource, id_parameter=_ID_PARAMETER[name],
                                                          operation_id=f"graph_{name}_fetch"),
             name=f"graph_{name}_detail"),
    ]
for sub in SUBLISTS:
    urlpatterns.append(path(
        f"{sub.parent.name}/<str:id>/{sub.name}",
        views.SubListView.as_view(sublist=sub, resource=sub.child, counted_as=sub.child.name,
                                  id_parameter=_ID_PARAMETER[sub.parent.name],
                                  operation_id=f"graph_{sub.parent.name}_{sub.name}_list"),
        name=f"graph_{sub.parent.name}_{sub.name}",
    ))
urlpatterns.append(re_path(r"^(?P<rest>.*)$", views.unknown_endpoint))
