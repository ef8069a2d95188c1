"""Filters of the 报名管理 listing: status, checked in, activity, occurrence, date."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import AdminDateInput, BooleanRadioSelect
from wagtail.models import Page

from core.models import int_or_none

from ..models import EVENT_MODELS, Occurrence, Registration, RegistrationStatus
from . import access


class OccurrenceChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj: Occurrence) -> str:
        label = f"{obj.page.title} {obj.local_start:%Y-%m-%d %H:%M}"
        return f"{label}（本场取消）" if obj.cancelled else label


class OccurrenceChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = OccurrenceChoiceField


def signup_pages(user, also=None):
    """Activity pages that take sign-ups or have some, within the user's scope,
    and the page with id ``also`` (the one asked for, e.g. by the link on an
    activity's edit view, so that the filter is valid for it too)."""
    takes_signups = Q(pk__in=Registration.objects.values("page_id"))
    if also is not None:
        takes_signups |= Q(pk=also)
    for model in EVENT_MODELS:
        takes_signups |= Q(
            pk__in=model.objects.filter(registration_required=True).values("pk")
        )
    pages = Page.objects.filter(takes_signups)
    scope = access.community_scope(user)
    if scope is not None:
        pages = pages.filter(
            pk__in=Occurrence.objects.filter(community_id__in=scope).values("page_id")
        )
    return pages.order_by("title", "pk")


class RegistrationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label="状态",
        choices=RegistrationStatus.choices,
        empty_label="全部",
        widget=forms.RadioSelect,
    )
    checked_in = django_filters.BooleanFilter(
        label="已签到", method="filter_checked_in", widget=BooleanRadioSelect
    )
    page = django_filters.ModelChoiceFilter(
        label="活动", field_name="page", queryset=Page.objects.none()
    )
    occurrence = OccurrenceChoiceFilter(
        label="场次", field_name="occurrence", queryset=Occurrence.objects.none()
    )
    date = django_filters.DateFilter(
        label="场次日期", method="filter_date", widget=AdminDateInput
    )

    class Meta:
        model = Registration
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = request.user
        page_id = int_or_none((data or {}).get("page"))
        self.filters["page"].queryset = signup_pages(user, also=page_id)
        # Occurrences: those of the chosen activity, else those with sign-ups;
        # either way only the user's communities' (a 先锋讲堂 rotates through them).
        occurrences = (
            access.scoped_occurrences(user)
            .select_related("page")
            .order_by("-start", "-pk")
        )
        if page_id is not None:
            occurrences = occurrences.filter(page_id=page_id)
        else:
            occurrences = occurrences.filter(
                pk__in=access.scoped(Registration.objects.all(), user).values(
                    "occurrence_id"
                )
            )
        self.filters["occurrence"].queryset = occurrences

    def filter_checked_in(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(checked_in_at__isnull=not value)

    def filter_date(self, queryset, name, value):
        if not value:
            return queryset
        start = timezone.make_aware(datetime.combine(value, time.min))
        return queryset.filter(
            occurrence__start__gte=start,
            occurrence__start__lt=start + timedelta(days=1),
        )
