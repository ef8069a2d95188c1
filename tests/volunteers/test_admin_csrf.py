"""The admin listing's row buttons (审核通过, 退出) post with the listing's CSRF
token: Wagtail renders a column's cell without the request context, so the
token was empty and a real browser got the CSRF failure page (the test client
does not check CSRF unless asked, so the admin tests never saw it)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from home.models import CommunityPage
from volunteers import roster
from volunteers.models import VolunteerStatus

pytestmark = pytest.mark.django_db


def test_approve_from_the_listing_with_csrf_checks_on():
    jiayuan = CommunityPage.objects.get(slug="jiayuan")
    applied = roster.apply(name="申请人", phone="13911110011", community=jiayuan)
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="jiayuan"))
    listing = client.get(reverse("volunteers_volunteers:index")).content.decode()
    action = reverse("volunteers_volunteers:approve", args=[applied.pk])
    form = re.search(
        rf'<form method="post" action="{action}">(.*?)</form>', listing, re.S
    )
    assert form, "no 审核通过 form"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1))
    assert token, "the row's form has no CSRF token"
    response = client.post(action, {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    applied.refresh_from_db()
    assert applied.status == VolunteerStatus.ACTIVE
