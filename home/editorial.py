"""Editorial roles of a subdistrict: who may edit, who approves.

- 街道宣传办 (subdistrict publicity office): edits and publishes anything on the site,
  approves what community editors submit, manages settings, images and the 讲师团.
- 「X社区宣传员」, one group per community: adds and edits pages under its own
  community page only — its news, pages and activities — and submits them to the
  街道宣传办 for approval.

``setup_editorial_roles`` is idempotent: running it again changes nothing.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

SUBDISTRICT_GROUP = "街道宣传办"
WORKFLOW_NAME = "街道宣传办审核"
IMAGE_ROOT_COLLECTION = "社区图片"

PUBLISHER_PAGE_PERMISSIONS = [
    "add_page",
    "change_page",
    "publish_page",
    "bulk_delete_page",
    "lock_page",
    "unlock_page",
]
EDITOR_PAGE_PERMISSIONS = ["add_page", "change_page"]
# Sign-ups: the 街道宣传办 sees names and phones; community editors list and
# check in their own community's sign-ups with names and phones masked.
PUBLISHER_MODEL_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin"),
    ("home", "sitesettings", "change_sitesettings"),
    ("events", "registration", "view_registration"),
    ("events", "registration", "change_registration"),
    ("events", "registration", "view_personal_data"),
    # 讲师团 is the subdistrict's: community editors only choose a lecturer
    # (Wagtail's chooser needs no model permission).
    ("events", "lecturer", "add_lecturer"),
    ("events", "lecturer", "change_lecturer"),
    ("events", "lecturer", "delete_lecturer"),
    # 搜索同义词: words residents use for the same thing (search/models.py).
    ("search", "synonymgroup", "add_synonymgroup"),
    ("search", "synonymgroup", "change_synonymgroup"),
    ("search", "synonymgroup", "delete_synonymgroup"),
]
# 志愿服务 (the volunteers app, named by label only): community editors manage
# their own community's teams, volunteers, posts, hours and time bank (scoped in
# volunteers/staff/access.py) with names and phones masked; 街道宣传办 all of it.
VOLUNTEER_MODEL_PERMISSIONS = [
    ("volunteers", model, f"{action}_{model}")
    for model, actions in (
        ("team", ("add", "change", "delete", "view")),
        ("volunteer", ("add", "change", "view")),
        ("volunteerpost", ("add", "change", "delete", "view")),
        ("postsignup", ("change", "view")),
        ("servicerecord", ("add", "change", "view")),
        ("timebankentry", ("add", "view")),
        ("wish", ("add", "change", "view")),
    )
    for action in actions
]
PUBLISHER_MODEL_PERMISSIONS += [
    *VOLUNTEER_MODEL_PERMISSIONS,
    ("volunteers", "volunteer", "view_volunteer_personal_data"),
    ("volunteers", "volunteersettings", "change_volunteersettings"),
]
EDITOR_MODEL_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin"),
    ("events", "registration", "view_registration"),
    ("events", "registration", "change_registration"),
    *VOLUNTEER_MODEL_PERMISSIONS,
]


def community_group_name(community) -> str:
    return f"{community.title}宣传员"


def _permission(app_label: str, model: str, codename: str) -> Permission:
    content_type = ContentType.objects.get_by_natural_key(app_label, model)
    return Permission.objects.get(content_type=content_type, codename=codename)


def _page_permission(codename: str) -> Permission:
    return _permission("wagtailcore", "page", codename)


def _image_permission(codename: str) -> Permission:
    return _permission("wagtailimages", "image", codename)


def image_collection(name: str, parent: Collection | None = None) -> Collection:
    """The collection called ``name`` under ``parent`` (default: the root)."""
    parent = parent or Collection.get_first_root_node()
    existing = parent.get_children().filter(name=name).first()
    return existing or parent.add_child(name=name)


def _grant_pages(group: Group, page: Page, codenames: list[str]) -> None:
    for codename in codenames:
        GroupPagePermission.objects.get_or_create(
            group=group, page=page, permission=_page_permission(codename)
        )


def _grant_images(group: Group, collection: Collection, codenames: list[str]) -> None:
    for codename in codenames:
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=collection, permission=_image_permission(codename)
        )


def _grant_models(group: Group, perms: list[tuple[str, str, str]]) -> None:
    group.permissions.add(*(_permission(*perm) for perm in perms))


def setup_editorial_roles(home: Page, communities) -> dict[str, Group]:
    """Create the groups, permissions and approval workflow for ``home``'s site.

    ``communities`` are the CommunityPage objects; each gets its own editor group
    and image collection. Returns the groups by name.
    """
    images_root = image_collection(IMAGE_ROOT_COLLECTION)

    publishers, _ = Group.objects.get_or_create(name=SUBDISTRICT_GROUP)
    _grant_models(publishers, PUBLISHER_MODEL_PERMISSIONS)
    _grant_pages(publishers, home, PUBLISHER_PAGE_PERMISSIONS)
    _grant_images(
        publishers,
        Collection.get_first_root_node(),
        ["add_image", "change_image", "choose_image", "delete_image"],
    )
    groups = {publishers.name: publishers}

    for community in communities:
        group, _ = Group.objects.get_or_create(name=community_group_name(community))
        _grant_models(group, EDITOR_MODEL_PERMISSIONS)
        _grant_pages(group, community, EDITOR_PAGE_PERMISSIONS)
        own_images = image_collection(community.title, images_root)
        _grant_images(group, own_images, ["add_image", "change_image", "choose_image"])
        _grant_images(group, images_root, ["choose_image"])
        groups[group.name] = group

    _setup_workflow(home, publishers)
    return groups


def _setup_workflow(home: Page, approvers: Group) -> Workflow:
    """One approval step by 街道宣传办, applying to every page of the site."""
    task = GroupApprovalTask.objects.filter(name=WORKFLOW_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=WORKFLOW_NAME)
    task.groups.add(approvers)
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    WorkflowTask.objects.get_or_create(
        workflow=workflow, task=task, defaults={"sort_order": 0}
    )
    WorkflowPage.objects.get_or_create(page=home, defaults={"workflow": workflow})
    return workflow
