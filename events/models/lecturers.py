"""The 讲师团: ``Lecturer`` snippets (老党员、老干部、老教师) who give 先锋讲堂
lectures, chosen on a ``LecturePage``."""

from django.db import models
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from core.models import image_field
from home.models import community_field


class LecturerTitle(models.TextChoices):
    OLD_PARTY_MEMBER = "老党员", "老党员"
    OLD_CADRE = "老干部", "老干部"
    OLD_TEACHER = "老教师", "老教师"
    SECRETARY = "书记", "书记"
    EXPERT = "专家", "专家"


class Lecturer(index.Indexed, models.Model):
    """A member of the 讲师团 (老党员、老干部、老教师) who gives 先锋讲堂 lectures."""

    name = models.CharField("姓名", max_length=30)
    title = models.CharField(
        "身份",
        max_length=10,
        choices=LecturerTitle.choices,
        help_text="如 老党员、老教师",
    )
    photo = image_field("照片")
    bio = models.TextField("简介", max_length=500, blank=True)
    community = community_field("所在社区", "lecturers")

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("title")]),
        FieldPanel("photo"),
        FieldPanel("bio"),
        FieldPanel("community"),
    ]
    search_fields = [index.SearchField("name"), index.SearchField("bio")]

    class Meta:
        verbose_name = "讲师"
        verbose_name_plural = "讲师团"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}（{self.title}）"


register_snippet(Lecturer)
