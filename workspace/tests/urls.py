"""URLconf for the request-log tests: the real routes plus two probes."""

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from workspace.api.authentication import TokenAuthentication
from workspace.urls import urlpatterns as project_urlpatterns


class WhoAmI(APIView):
    """Token auth only: DRF sets the user inside the view, as the API does."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"id": request.user.pk})

    def post(self, request):
        return Response({"id": request.user.pk})


def boom(request):
    raise RuntimeError("boom: the view failed")


urlpatterns = [
    *project_urlpatterns,
    path("probe/whoami/", WhoAmI.as_view()),
    path("probe/boom/", boom),
]
