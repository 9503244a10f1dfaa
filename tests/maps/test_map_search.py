"""Accent-insensitive name search, without a database."""

from gis.maps.search import NameIndex, fold


def row(code, name, level, parent=None):
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "xmin": 0,
        "ymin": 0,
        "xmax": 1,
        "ymax": 1,
    }


INDEX = NameIndex(
    [
        row("75", "Tỉnh Đồng Nai", 1),
        row("731", "Thành phố Biên Hòa", 2, "75"),
        row("25996", "Phường Tân Phong", 3, "731"),
        row("26371", "Phường An Hòa", 3, "731"),
        row("25996-01", "Khu phố 1", 4, "25996"),
        row("26116", "Xã Phú Bình", 3, "734"),
    ]
)


def test_fold_drops_diacritics_and_d_stroke():
    assert fold("Biên Hòa") == "bien hoa"
    assert fold("  TỈNH  ĐỒNG NAI ") == "tinh dong nai"
    assert fold("Bie\u0302n Ho\u0300a") == "bien hoa"  # decomposed input folds the same


def test_accentless_query_finds_the_unit_first():
    assert [p.code for p in INDEX.search("bien hoa")][:1] == ["731"]
    assert INDEX.search("tan phong")[0].name == "Phường Tân Phong"
    assert INDEX.search("ĐỒNG NAI")[0].code == "75"


def test_words_may_come_from_the_parents():
    found = INDEX.search("khu pho 1 tan phong")
    assert [p.code for p in found] == ["25996-01"]
    assert found[0].parents == ("Phường Tân Phong", "Thành phố Biên Hòa", "Tỉnh Đồng Nai")


def test_nothing_for_an_empty_or_unknown_query():
    assert INDEX.search("   ") == []
    assert INDEX.search("ha noi") == []
