"""Residents' own words (search/words.py): synonyms, homophone slips of our names,
how specific a word is, the relaxed query for phrases of common words, and the
editors' synonym groups (搜索同义词)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from search import engine, text, words
from search.models import SynonymGroup

from .test_engine import slugs

ADD = "wagtailsnippets_search_synonymgroup:add"


# --- pure: no database ----------------------------------------------------------


def test_a_homophone_slip_is_found_from_our_terms_by_pinyin():
    text.add_terms(["农业院", "戊院", "省民航", "浓情家园", "甲院"])
    assert words.homophone_spans("农业园") == [(0, 3, "农业院")]
    assert words.homophone_spans("五院") == [(0, 2, "戊院")]
    # every reading of a polyphonic character: 行 is xing or hang
    assert words.homophone_spans("省民行") == [(0, 3, "省民航")]
    assert words.homophone_spans("浓情佳园") == [(0, 4, "浓情家园")]


def test_no_slip_where_the_name_is_written_or_a_different_word():
    text.add_terms(["浓情家园", "甲院"])
    assert words.homophone_spans("浓情家园") == []
    assert words.homophone_spans("甲院社区") == []
    # 家园 sounds like 甲院 but no character is the same: a word of its own
    assert words.homophone_spans("家园") == []
    assert words.homophone_spans("看病") == []


def test_a_slip_reads_as_the_name_it_is_a_slip_for():
    text.add_terms(["农业院"])
    query = text.parse_query("农业园 邻里节")
    first = query.concepts[0]
    assert first.word == "农业园" and first.homophones == {"农业院"}
    assert "农业院" in first.alternatives and "农业院" in first.marks
    assert first.strength("农业院 社区") == 1.0


def test_synonyms_of_the_word_and_of_the_words_inside_it():
    assert "书法" in text.parse_query("练字").concepts[0].synonyms
    assert "灯谜" in text.parse_query("猜谜语").concepts[0].synonyms
    # a phrase of a group is read as one word: its group, not 骗子 and 电话
    (scam,) = text.parse_query("骗子电话").concepts
    assert "电信诈骗" in scam.synonyms


def test_festival_dates_as_residents_say_them():
    groups = words.festival_groups()
    assert ("中秋节", "中秋", "八月十五") in groups
    assert ("元宵节", "元宵", "正月十五") in groups
    assert ("腊八节", "腊八", "腊月初八") in groups
    assert "中秋节" in text.parse_query("八月十五").concepts[0].synonyms


def test_common_words_weigh_less_than_specific_ones():
    text.add_terms(["张桂兰"])
    weight = {
        c.word: c.weight for c in text.parse_query("老人 一起 过生日 张桂兰").concepts
    }
    assert weight["一起"] < weight["老人"] < weight["过生日"] < weight["张桂兰"]


def test_editor_groups_replace_the_previous_ones():
    text.set_synonym_groups([["吹拉弹唱", "合唱"]])
    assert words.synonyms("吹拉弹唱") == {"合唱"}
    assert text.parse_query("吹拉弹唱").concepts[0].word == "吹拉弹唱"
    text.set_synonym_groups([])
    assert words.synonyms("吹拉弹唱") == frozenset()
    assert "义诊" in words.synonyms("看病")  # the programme's own groups stay


# --- against the demo -----------------------------------------------------------


@pytest.mark.django_db
def test_homophone_and_phrase_of_common_words_find_the_page():
    assert slugs(engine.search("农业园").ids)[0] == "nongyeyuan"
    assert slugs(engine.search("五院社区").ids)[0] == "wuyuan"
    # no page holds 孩子, 放学 and 去哪: the pages holding some of them follow
    assert "sidianzhong-ketang" in slugs(engine.search("孩子 放学 去哪").ids)[:5]


@pytest.mark.django_db
def test_relaxed_query_costs_one_query_whatever_it_finds(client):
    def own_queries(query):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/search/", {"q": query}).status_code == 200
        return [q for q in ctx.captured_queries if "search_searchdocument" in q["sql"]]

    client.get("/search/", {"q": "预热"})  # the terms are loaded once per process
    # few pages hold both words: the relaxed query, then the ten results
    assert len(own_queries("月饼 民事调解")) == 3
    assert len(own_queries("老人 一起 过生日")) == 3
    # enough pages hold both: no relaxed query
    assert len(own_queries("党员 社区")) == 2


@pytest.mark.django_db
def test_editors_add_a_synonym_group_without_a_deploy(client):
    assert "guoqing-shengqi" not in slugs(engine.search("吹拉弹唱").ids)
    client.force_login(get_user_model().objects.get(username="xuanchuan"))
    listing = client.get(reverse("wagtailsnippets_search_synonymgroup:list"))
    assert listing.status_code == 200 and "搜索同义词" in listing.content.decode()
    form = client.get(reverse(ADD)).content.decode()
    assert "用空格或顿号隔开" in form
    # one word is no group: a Chinese message, nothing saved
    response = client.post(reverse(ADD), {"words": "吹拉弹唱"})
    assert response.status_code == 200
    assert "请至少写两个不同的词" in response.content.decode()
    response = client.post(reverse(ADD), {"words": "🎵 、合唱"})
    assert "每个词都要有汉字、字母或数字" in response.content.decode()
    assert not SynonymGroup.objects.exists()
    response = client.post(reverse(ADD), {"words": "吹拉弹唱、合唱，, 合唱"})
    assert response.status_code == 302
    group = SynonymGroup.objects.get()
    assert group.words == "吹拉弹唱 合唱" and str(group) == "吹拉弹唱、合唱"
    # the next search (in any process: the terms version changed) has it
    assert "guoqing-shengqi" in slugs(engine.search("吹拉弹唱").ids)
    group.delete()
    assert "guoqing-shengqi" not in slugs(engine.search("吹拉弹唱").ids)


@pytest.mark.django_db
def test_community_editors_do_not_edit_synonyms(client):
    client.force_login(get_user_model().objects.get(username="jiayuan"))
    response = client.post(reverse(ADD), {"words": "吹拉弹唱 合唱"})
    assert response.status_code in (302, 403)
    assert not SynonymGroup.objects.exists()
