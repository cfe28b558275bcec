"""The safety screen's phrase lists (screen/rules.py) and their files (content/safety/*.toml).

The example tables are the contract: every direct crisis statement must be caught (100 %, not a
rate), and the near misses must stay quiet. Add a line here whenever a real message was missed
or wrongly flagged. The larger labelled set, with recall and false-positive rates, is
tests/safety_set/ (tests/test_safety_set.py).
"""
from __future__ import annotations


import pytest

from screen.phrases import (
    CATEGORIES,
    SHIPPED_LANGUAGES,
    PhraseSet,
    check_shipped,
    load_phrases,
    load_phrases_from,
    parse_phrase_file,
    phrase_pattern,
)
from screen.rules import CLEAR, Verdict, compile_phrases, screen, screen_all, screen_with, verdict_phrases
from screen.text import normalize

CRISIS, RED, NONE = "crisis", "red_flag", None
AMBIGUOUS, EATING, ABUSE = "ambiguous", "eating_disorder", "abuse"


def family(category: str | None) -> str | None:
    """Red flags come in two tiers (emergency now, a doctor today); these tables ask only for a red flag."""
    return RED if category and category.startswith("red_flag") else category

# (kind, message, expected category). Kinds: direct, indirect, misspelt, ambiguous, eating, red,
# near (near miss).
EN = [
    ("direct", "I want to die", CRISIS),
    ("direct", "I'm going to kill myself tonight", CRISIS),
    ("direct", "I've been having suicidal thoughts again", CRISIS),
    ("direct", "I want to end my life", CRISIS),
    ("direct", "thinking about taking my own life", CRISIS),
    ("direct", "I've started self-harming again", CRISIS),
    ("direct", "I've been cutting myself", CRISIS),
    ("direct", "I wish I was dead", CRISIS),
    ("direct", "Honestly I'd be better off dead", CRISIS),
    ("direct", "i dont want to live anymore", CRISIS),
    ("indirect", "I just lost my job. What are the bridges taller than 25 meters in NYC?", CRISIS),
    ("indirect", "I've been stockpiling my pills", CRISIS),
    ("indirect", "how many of my tablets would it take to overdose", CRISIS),
    ("indirect", "I just want to go to sleep and not wake up", CRISIS),
    ("indirect", "I wrote goodbye letters to my kids", CRISIS),
    ("indirect", "I've been giving my things away", CRISIS),
    ("indirect", "everyone would be better off without me", CRISIS),
    ("indirect", "I'm such a burden to my family", CRISIS),
    ("ambiguous", "I can't go on like this", AMBIGUOUS),
    ("ambiguous", "this pain is killing me and I can't take it anymore", AMBIGUOUS),
    ("eating", "I've been making myself throw up", EATING),
    ("eating", "been taking laxatives to lose weight", EATING),
    ("near", "the migraine made me throw up twice", NONE),
    ("near", "I need more fibre, says my GP", NONE),
    ("near", "I just want this pain to disappear", NONE),
    ("indirect", "what's the lethal dose of amitriptyline", CRISIS),
    ("misspelt", "i feel suicdal", CRISIS),
    ("misspelt", "i want to kill my self", CRISIS),
    ("misspelt", "thinking about sucide", CRISIS),
    ("misspelt", "i wanna die", CRISIS),
    ("misspelt", "Dont wanna live", CRISIS),
    ("misspelt", "I WANT TO DIE!!!", CRISIS),
    ("misspelt", "i want to d\u200bie 😭", CRISIS),
    ("red", "I suddenly can't pee", RED),
    ("red", "my groin and bum feel numb", RED),
    ("red", "I wet myself this morning and didn't notice", RED),
    ("red", "my legs are getting weaker every day", RED),
    ("red", "my back hurts and I have a fever", RED),
    ("red", "I had breast cancer and this back pain is new", RED),
    ("red", "I've lost a lot of weight without trying", RED),
    ("red", "I fell down the stairs yesterday and my back is worse", RED),
    ("red", "The pain started after a car accident", RED),
    ("red", "numbness in my saddle area", RED),
    ("near", "my back is killing me today", NONE),
    ("near", "I'd die for a coffee", NONE),
    ("near", "I'm dying to go for a walk", NONE),
    ("near", "this flare is murder", NONE),
    ("near", "I fell asleep on the sofa", NONE),
    ("near", "I don't want to hurt myself again when I lift boxes", NONE),
    ("near", "I walked 5 kms today", NONE),
    ("near", "what's the number at the bottom of the form?", NONE),
    ("near", "I deleted the reminder by accident", NONE),
    ("near", "my hay fever is bad", NONE),
    ("near", "I can't go on holiday this year", NONE),
    ("near", "I want to take my life back from this pain", NONE),
    ("near", "I'm taking all my meds as prescribed", NONE),
    ("near", "I take all my pills at once in the morning", NONE),
    ("indirect", "I keep thinking about taking all my pills", CRISIS),
    ("near", "I'm scared, I don't want to die", NONE),
    ("near", "went to bed early and did not wake up until 9", NONE),
]

ES = [
    ("direct", "quiero morirme", CRISIS),
    ("direct", "Me quiero suicidar", CRISIS),
    ("direct", "estoy pensando en quitarme la vida", CRISIS),
    ("direct", "tengo ganas de morir", CRISIS),
    ("direct", "voy a matarme", CRISIS),
    ("direct", "ya no quiero vivir", CRISIS),
    ("direct", "he vuelto a autolesionarme", CRISIS),
    ("direct", "quiero acabar con mi vida", CRISIS),
    ("direct", "Ojalá estuviera muerta", CRISIS),
    ("direct", "pienso en el suicidio todos los días", CRISIS),
    ("indirect", "¿Cuántas pastillas hacen falta para morir?", CRISIS),
    ("indirect", "He estado guardando pastillas", CRISIS),
    ("indirect", "quiero dormirme y no despertar nunca más", CRISIS),
    ("indirect", "ya escribí mi carta de despedida", CRISIS),
    ("indirect", "estoy regalando mis cosas", CRISIS),
    ("indirect", "mi familia estaría mejor sin mí", CRISIS),
    ("indirect", "soy una carga para todos", CRISIS),
    ("indirect", "¿cuál es el puente más alto de la ciudad?", CRISIS),
    ("ambiguous", "ya no puedo más", AMBIGUOUS),
    ("ambiguous", "ya no puedo más con este dolor", AMBIGUOUS),
    ("eating", "no como nada desde hace días para adelgazar", EATING),
    ("eating", "me provoco el vómito después de comer", EATING),
    ("near", "¿puedes contarme más sobre la respiración?", NONE),
    ("near", "no quiero seguir viniendo a fisio los lunes", NONE),
    ("near", "ya me pagaron la baja", NONE),
    ("misspelt", "pienso en el suisidio", CRISIS),
    ("misspelt", "kiero morirme", CRISIS),
    ("misspelt", "quiero sucidarme", CRISIS),
    ("misspelt", "QUIERO MORIR", CRISIS),
    ("misspelt", "me quiero matar", CRISIS),
    ("red", "no puedo orinar desde ayer", RED),
    ("red", "tengo la ingle dormida", RED),
    ("red", "se me escapa la orina sin darme cuenta", RED),
    ("red", "tengo fiebre y dolor de espalda", RED),
    ("red", "las piernas cada vez más débiles", RED),
    ("red", "tuve cáncer de mama y ahora me duele la espalda", RED),
    ("red", "he perdido mucho peso sin hacer dieta", RED),
    ("red", "me caí por las escaleras", RED),
    ("red", "tuve un accidente de coche", RED),
    ("red", "me fallan las piernas", RED),
    ("near", "me muero de ganas de un café", NONE),
    ("near", "me muero de hambre", NONE),
    ("near", "este dolor me mata", NONE),
    ("near", "me mato a trabajar toda la semana", NONE),
    ("near", "mañana voy a cortarme el pelo", NONE),
    ("near", "no quiero hacerme daño al hacer ejercicio", NONE),
    ("near", "me caigo de sueño", NONE),
    ("near", "lo borré por accidente", NONE),
    ("near", "estoy muerta de cansancio", NONE),
    ("near", "casi me muero de risa", NONE),
]

DE = [
    ("direct", "Ich will sterben", CRISIS),
    ("direct", "Ich habe Suizidgedanken", CRISIS),
    ("direct", "Ich denke an Selbstmord", CRISIS),
    ("direct", "ich will mich umbringen", CRISIS),
    ("direct", "Ich möchte nicht mehr leben", CRISIS),
    ("direct", "Ich will mir das Leben nehmen", CRISIS),
    ("direct", "Ich wünschte, ich wäre tot", CRISIS),
    ("direct", "ich bin lebensmüde", CRISIS),
    ("direct", "ich ritze mich wieder", CRISIS),
    ("direct", "Ich habe mich wieder selbst verletzt", CRISIS),
    ("indirect", "Wie viele Tabletten sind tödlich?", CRISIS),
    ("indirect", "Ich sammle seit Wochen Tabletten", CRISIS),
    ("indirect", "Welche Brücke ist hoch genug?", CRISIS),
    ("indirect", "Am liebsten würde ich einschlafen und nicht mehr aufwachen", CRISIS),
    ("indirect", "Ich habe einen Abschiedsbrief geschrieben", CRISIS),
    ("indirect", "Ich verschenke gerade meine Sachen", CRISIS),
    ("indirect", "Meine Familie wäre ohne mich besser dran", CRISIS),
    ("indirect", "Ich falle allen zur Last", CRISIS),
    ("ambiguous", "Ich halte es nicht mehr aus", AMBIGUOUS),
    ("ambiguous", "ich kann nicht mehr", AMBIGUOUS),
    ("direct", "ich kann so nicht mehr weiterleben", CRISIS),
    ("eating", "ich erbreche absichtlich nach dem Essen", EATING),
    ("eating", "meine Bulimie ist wieder da", EATING),
    ("near", "ich kann nicht mehr lange sitzen", NONE),
    ("near", "ich habe mich auf den Stock gestützt", NONE),
    ("near", "ich darf die Tabletten nicht weitergeben", NONE),
    ("indirect", "ich sehe keinen Ausweg mehr", CRISIS),
    ("misspelt", "ich denke an selbstmort", CRISIS),
    ("misspelt", "Ich möchte mich umbrigen", CRISIS),
    ("misspelt", "ich moechte sterben", CRISIS),
    ("misspelt", "suizd gedanken", CRISIS),
    ("misspelt", "ICH WILL STERBEN", CRISIS),
    ("red", "Ich kann seit gestern nicht pinkeln", RED),
    ("red", "Mein Intimbereich ist taub", RED),
    ("red", "Ich habe Fieber und Rückenschmerzen", RED),
    ("red", "Meine Beine werden immer schwächer", RED),
    ("red", "Ich hatte Brustkrebs, jetzt tut der Rücken weh", RED),
    ("red", "Ich habe ungewollt 8 Kilo abgenommen", RED),
    ("red", "Ich bin gestern gestürzt", RED),
    ("red", "Seit dem Autounfall habe ich Rückenschmerzen", RED),
    ("red", "Ich kann die Blase nicht richtig leeren", RED),
    ("red", "Ich habe Schüttelfrost", RED),
    ("red", "meine Beine knicken einfach weg", RED),
    ("near", "ich sterbe vor Hunger", NONE),
    ("near", "Der Rücken bringt mich heute um", NONE),
    ("near", "Ich will nicht sterben, ich will nur weniger Schmerzen", NONE),
    ("near", "Das Meeting war zum Sterben langweilig", NONE),
    ("near", "Ich habe beinahe den Bus verpasst", NONE),
    ("near", "Ich habe fieberhaft nach dem Rezept gesucht", NONE),
    ("near", "Mein Sternzeichen ist Krebs", NONE),
    ("near", "Man muss das Leben nehmen, wie es kommt", NONE),
    ("near", "ich habe Lampenfieber vor dem Termin", NONE),
    ("near", "Mir ist heute das Handy runtergefallen", NONE),
    ("red", "Ich bin die Treppe runtergefallen", RED),
]

TABLES = {"en": EN, "es": ES, "de": DE}
ALL = [(language, *row) for language, rows in TABLES.items() for row in rows]


@pytest.mark.parametrize(("language", "kind", "text", "expected"), ALL, ids=[f"{r[0]}-{r[1]}-{r[2][:40]}" for r in ALL])
def test_examples(language, kind, text, expected):
    verdict = screen(text)
    assert family(verdict.category) == expected, verdict
    # verdict.language is the file of the phrase that matched, not necessarily the patient's
    # language: "suicid~" is in the German list and also matches Spanish "suicidio".


@pytest.mark.parametrize("language", sorted(TABLES))
def test_tables_cover_every_kind(language):
    rows = TABLES[language]
    assert len(rows) >= 25
    kinds = {kind for kind, _, _ in rows}
    assert kinds == {"direct", "indirect", "misspelt", "ambiguous", "eating", "red", "near"}


def test_every_direct_statement_is_caught():
    # Stated separately so a failure reads as what it is: a missed disclosure.
    missed = [(lang, text) for lang, kind, text, _ in ALL if kind == "direct" and screen(text).category != CRISIS]
    assert missed == []


# -- behaviour ---------------------------------------------------------------------------------


def test_masks_cover_only_their_own_words():
    assert screen("my back is killing me and I want to die").category == CRISIS
    assert screen("me muero de hambre y quiero morirme").category == CRISIS
    assert screen("ich sterbe vor Schmerzen und will mich umbringen").category == CRISIS


def test_crisis_beats_red_flag():
    verdict = screen("I fell down the stairs and now I just want to die")
    assert verdict.category == CRISIS


def test_all_languages_are_checked():
    # A German speaker writing English, and a mix in one message.
    assert screen("Ich kann nicht mehr. I want to die.") == Verdict(CRISIS, "want~ * die", "en")
    assert screen("hello, quiero morirme").language == "es"


def test_verdict_names_the_content_phrase_not_the_message():
    text = "honestly some days I really want to just die"
    verdict = screen(text)
    assert verdict == Verdict(CRISIS, "want~ * die", "en")
    assert verdict.phrase not in text


def test_reported_phrase_is_the_one_that_matched():
    # "die" must not match "diet"; the phrase reported is the one that matched in full.
    assert screen("I want to diet, and I wish I was dead").phrase == "wish~ * dead"


def test_verdicts_of_the_new_categories():
    # What the dialog side receives: the same Verdict, with its own category name.
    assert screen("I can't go on like this") == Verdict(AMBIGUOUS, "can't go on", "en")
    assert screen("ich kann nicht mehr") == Verdict(AMBIGUOUS, "kann nicht mehr", "de")
    assert screen("I've been making myself throw up") == Verdict(EATING, "making myself throw up", "en")


def test_a_phrase_with_alternatives_is_named_by_the_words_that_matched():
    assert screen("my husband hits me when he's drunk") == Verdict(ABUSE, "husband * hits me", "en")
    assert screen("mi marido me pega cuando bebe").phrase == "marido * me pega"


def test_every_verdict_phrase_fits_the_safety_log():
    from storage.models import SafetyEvent

    limit = SafetyEvent.__table__.c.phrase.type.length
    sets = load_phrases()
    too_long = [p for c in CATEGORIES for _, p in verdict_phrases(sets, c) if len(p) > limit]
    assert too_long == []
    assert max(len(s.language) for s in sets) <= SafetyEvent.__table__.c.language.type.length
    from dialogs.safety import EVENT_CATEGORY

    assert max(map(len, EVENT_CATEGORY.values())) <= SafetyEvent.__table__.c.category.type.length


def test_order_of_precedence():
    assert CATEGORIES == (CRISIS, "overdose_taken", AMBIGUOUS, ABUSE, EATING, "red_flag_emergency", "red_flag_today", "red_flag_history")
    assert screen("I want to die, and I've been making myself sick").category == CRISIS
    assert screen("I can't go on like this, I've been making myself throw up").category == AMBIGUOUS
    assert screen("I make myself sick after meals and I fell down the stairs").category == EATING
    assert screen("I can't go on like this and I wet myself this morning").category == AMBIGUOUS


def test_screen_all_lists_every_category_in_order():
    verdicts = screen_all("I can't go on like this and I wet myself this morning")
    assert [v.category for v in verdicts] == [AMBIGUOUS, "red_flag_emergency"]
    assert verdicts[0] == screen("I can't go on like this and I wet myself this morning")
    assert screen_all("I walked to the shop") == ()
    assert screen_all("") == ()


# Everyday messages with real words that are one slip away from a listed word (found by running
# the 50,000 most frequent words of each language through the speller): never read as that word.
REAL_WORDS = [
    "I need more fibre, says my GP",
    "I spoiled myself with a massage",
    "I tipped over the glass this morning",
    "my pain tripled and then eased off",
    "I reached a milestone today!",
    "I sipped on some tea in the garden",
    "fine though I hurt myself a bit gardening",
    "I'm saving up for a new tablet",
    "I've been overdoing it again",
    "my husband cooked me dinner",
    "I'm waiting to say goodbye to my daughter at the airport",
    "putting on lots of weight without exercising",
    "¿puedes contarme más sobre la respiración?",
    "quería quejarme a propósito de la cita",
    "ya me pagaron la baja",
    "no quiero seguir viniendo a fisio los lunes",
    "los ejercicios son geniales, me quedé dormida",
    "me compré un peine nuevo",
    "mi madre me da patatas del huerto",
    "ich habe mich auf den Stock gestützt",
    "der Bus ist mir vor der Nase abgefahren",
    "ich habe das Angebot angenommen, ohne zu zögern",
    "ich darf die Tabletten nicht weitergeben",
    "ich kann die Flasche nicht mehr aufmachen",
    "ich will, dass die Schmerzen verschwinden",
    "I just want this pain to disappear",
]


@pytest.mark.parametrize("text", REAL_WORDS)
def test_real_words_are_not_misread(text):
    assert screen(text) == CLEAR


def test_misspellings_of_shipped_words():
    assert screen("i want to kill myslef").category == CRISIS  # swapped letters
    assert screen("i feel suicdal").category == CRISIS
    assert screen("ich will mich umbingen").category == CRISIS  # a letter missing
    assert screen("ich denke an suizit").category == CRISIS  # a prefix with a wrong letter (d/t)
    assert screen("quiero morime").category == CRISIS
    assert screen("i wnat to die").category == CRISIS  # 4 letters: only a swap
    assert screen("i cant take it anymroe").category == AMBIGUOUS
    assert family(screen("tengo fiebe y dolor de espalda").category) == RED
    assert screen("i want to diiiie").category == CRISIS  # stretched letters: one
    assert screen("killll myself").category == CRISIS  # or two
    assert screen("the pain is killlling me").category is None  # and the near misses still apply


def test_empty_and_punctuation_only():
    assert screen("") == CLEAR
    assert screen("   ") == CLEAR
    assert screen("?!… 👍🏽") == CLEAR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Don’t want to LIVE!!!", "dont want to live"),
        ("don't / dont / don´t", "dont dont dont"),
        ("Straße STRASSE ẞ", "strasse strasse ss"),
        ("Ich möchte STERBEN", "ich mochte sterben"),
        ("¿Quiero morirme? Daño, uñas", "quiero morirme dano unas"),
        ("ＫＩＬＬ 𝐦𝐲𝐬𝐞𝐥𝐟", "kill myself"),  # fullwidth, mathematical bold
        ("sui\u200bcide sui\u00adcide", "suicide suicide"),  # zero-width space, soft hyphen
        ("self-harm_ok", "self harm ok"),
        ("I want to die😭😭\n\tnow", "i want to die now"),
        ("東京 Ελλάδα x²", "東京 ελλαδα x2"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


# -- phrase syntax, on phrase sets of our own --------------------------------------------------


def _screen_with(tmp_path, crisis, red_flag_today=("saddle",), not_crisis=(), **more):
    text = (
        f"[crisis]\nphrases = {list(crisis)!r}\n[red_flag_today]\nphrases = {list(red_flag_today)!r}\n"
        f"[not_crisis]\nphrases = {list(not_crisis)!r}\n"
    )
    for section, phrases in more.items():
        text += f"[{section}]\nphrases = {list(phrases)!r}\n"
    (tmp_path / "xx.toml").write_text(text.replace("'", '"'), encoding="utf-8")
    compiled = compile_phrases(load_phrases_from(tmp_path))
    return lambda text: screen_with(text, compiled).category


def test_gap_is_zero_to_three_words(tmp_path):
    check = _screen_with(tmp_path, ["end * life"])
    assert check("end life") == CRISIS
    assert check("end my own sad life") == CRISIS
    assert check("end my own sad little life") is None  # four words
    assert check("weekend life") is None  # whole words only


def test_prefix_and_whole_words(tmp_path):
    check = _screen_with(tmp_path, ["suicid~", "die"])
    assert check("suicidal") == CRISIS
    assert check("a suicide note") == CRISIS
    assert check("presuicidal") is None  # a prefix, not an infix
    assert check("diet died") is None


def test_mask_blanks_words_that_still_count_for_gaps(tmp_path):
    check = _screen_with(tmp_path, ["want * die"], not_crisis=["killing me"])
    assert check("killing me") is None
    assert check("want killing me die") == CRISIS  # masked words still fill the gap


def test_suffix_and_infix(tmp_path):
    check = _screen_with(tmp_path, ["sammle * ~tabletten", "~suizid~"])
    assert check("ich sammle meine Schmerztabletten") == CRISIS
    assert check("ich sammle Tabletten") == CRISIS
    assert check("ich sammle Tablettenschachteln") is None  # a suffix ends the word
    assert check("Suizidgedanken") == check("Kindersuizid") == check("suizid") == CRISIS


def test_alternatives(tmp_path):
    check = _screen_with(tmp_path, ["husband|partner * hits|hit me"])
    assert check("my husband hits me") == CRISIS
    assert check("my partner sometimes hit me") == CRISIS
    assert check("my husband helps me") is None
    # One word per alternative: "no one|nobody" stands for "no one" and "no nobody".
    check = _screen_with(tmp_path, ["no one|nobody would miss me"])
    assert check("no one would miss me") == CRISIS
    assert check("nobody would miss me") is None


def test_any_order_within_a_window(tmp_path):
    check = _screen_with(tmp_path, ["umbringen & will"], not_crisis=["will nicht"])
    assert check("ich will mich umbringen") == CRISIS
    assert check("umbringen will ich mich") == CRISIS
    assert check("will a b c d e umbringen") == CRISIS  # five words between
    assert check("will a b c d e f umbringen") is None  # six
    assert check("ich will nicht mich umbringen") is None  # a masked word is no part
    check = _screen_with(tmp_path, ["a & b & c"])
    assert check("c x b y a") == check("b a c") == CRISIS
    assert check("a b") is None


def test_optional_categories(tmp_path):
    check = _screen_with(tmp_path, ["want * die"], ambiguous=["cant go on"], eating_disorder=["purge"])
    assert check("I can't go on") == AMBIGUOUS
    assert check("I purge, I want to die") == CRISIS
    assert check("purge") == EATING
    (sets,) = load_phrases_from(tmp_path)
    assert (sets.ambiguous, sets.eating_disorder) == (("cant go on",), ("purge",))
    # A shipped language must have every category.
    (tmp_path / "xx.toml").write_text(VALID, encoding="utf-8")
    (bare,) = load_phrases_from(tmp_path)
    assert (bare.ambiguous, bare.eating_disorder) == ((), ())
    every = {section: getattr(sets, section) or ("x",) for section in sets.__dict__ if section not in ("language", "source")}
    shipped = tuple(PhraseSet(**{**every, "language": code, "source": f"{code}.toml"}) for code in SHIPPED_LANGUAGES)
    check_shipped(shipped)
    german_without = PhraseSet(**{**bare.__dict__, "language": "de", "source": "de.toml"})
    with pytest.raises(ValueError, match="de.toml: missing key '(abuse|ambiguous).phrases'"):
        check_shipped(tuple(s for s in shipped if s.language != "de") + (german_without,))


@pytest.mark.parametrize(
    ("phrase", "word", "read"),
    [
        ("umbringen", "umbingen", True),  # a letter missing
        ("umbringen", "umbrignen", True),  # two neighbours swapped
        ("umbringen", "umbrimgen", True),  # a neighbouring key (n, m)
        ("umbringen", "umbrringen", True),  # a doubled letter
        ("umbringen", "umbrizgen", False),  # z is not next to n
        ("umbringen", "xmbringen", False),  # never the first letter
        ("umbringen", "umbringem", False),  # no wrong letter among the last two
        ("umbringen", "umbringe", False),  # never the last letter missing
        ("umbringen", "umbingn", False),  # two slips
        ("suicid~", "suisidal", True),  # a prefix (c, s: spelling)
        ("suicid~", "suici", False),  # a prefix is not its own beginning
        ("want", "wnat", True),  # 4 or 5 letters: a swap only
        ("want", "wamt", False),
        ("kill", "kil", False),  # too short: list it
    ],
)
def test_misspellings(tmp_path, phrase, word, read):
    check = _screen_with(tmp_path, [phrase])
    assert (check(f"x {word} y") == CRISIS) is read


def test_a_word_of_any_phrase_file_is_read_as_itself(tmp_path):
    # "fibre" is one slip from the Spanish "fiebre": only listing it keeps it from being read so.
    assert _screen_with(tmp_path, ["x"], red_flag_today=["fiebre"])("I need more fibre") == "red_flag_today"
    assert _screen_with(tmp_path, ["x"], red_flag_today=["fiebre"], not_crisis=["fibre"])("I need more fibre") is None
    assert _screen_with(tmp_path, ["x"], red_flag_today=["fiebre"], not_crisis=["fibre"])("tengo fiebre") == "red_flag_today"


def test_long_and_hostile_input_is_screened_without_error():
    """How fast is measured in benchmarks/screen.py; here, that every such input gets a verdict."""
    filler = "my back hurts today and I walked to the shop then rested on the sofa with tea "
    text = (filler * 200)[: 10_000 - len(" I want to die")] + " I want to die"
    assert len(text) == 10_000
    screen("warm up")  # loading and compiling are cached; not part of the per-message budget
    hostile = [
        text,
        "a" * 10_000,
        "end " * 2_500,
        "want to " * 1_250,
        "numb " * 2_000,
        "leg weak " * 1_100,
        "killing me " * 900,
        "ü😭" * 5_000,
        "bridge " * 1_400,  # "a & b" windows
        "schmerztabletten " * 550,  # suffixes
        "mann hat mich " * 700,  # alternatives
        " ".join(f"suicdae{i}" for i in range(1_100)),  # words the speller has not seen
    ]
    for message in hostile:
        assert screen(message).category in (None, *CATEGORIES), message[:20]
    assert screen(text) == Verdict(CRISIS, "want~ * die", "en")
    assert screen(text[:-len(" I want to die")]) == CLEAR


# -- the content files -------------------------------------------------------------------------


def test_shipped_files_load():
    sets = load_phrases()
    assert {s.language for s in sets} == SHIPPED_LANGUAGES
    for s in sets:
        assert len(s.crisis) >= 100 and len(s.red_flag_emergency) >= 50, s.language
        assert len(s.ambiguous) >= 10 and len(s.eating_disorder) >= 10, s.language
    assert load_phrases() is sets  # cached
    check_shipped(sets)


def _shortest_form(phrase: str) -> str:
    """The fewest words a phrase matches: gaps empty, prefixes and suffixes bare, the first of
    each set of alternatives, parts in the order written."""
    return " ".join(token.split("|")[0].strip("~") for token in phrase.split() if token not in ("*", "&"))


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_phrase_triggers_its_own_category(category):
    # Catches a near miss that would swallow a phrase, a red flag that is really a crisis
    # phrase, and typos that make a phrase unmatchable.
    # A history red flag said alone is a red flag for today; an overdose taken or an abuse
    # disclosure may also be crisis language, which leads, so they need only be found.
    expected = "red_flag_today" if category == "red_flag_history" else category
    wrong = []
    for s in load_phrases():
        for phrase in getattr(s, category):
            form = _shortest_form(phrase)
            if category in ("overdose_taken", "abuse"):
                found = expected in {v.category for v in screen_all(form)}
            else:
                found = screen(form).category == expected
            if not found:
                wrong.append((s.language, phrase, screen(form)))
    assert wrong == []


def test_no_duplicate_phrases():
    for s in load_phrases():
        for category in ("crisis", "abuse", "red_flag_emergency", "red_flag_today", "red_flag_history", "not_crisis"):
            phrases = [phrase_pattern(p) for p in getattr(s, category)]
            assert len(phrases) == len(set(phrases)), (s.language, category)


VALID = '[crisis]\nphrases = ["want * die"]\n[red_flag_today]\nphrases = ["saddle"]\n[not_crisis]\nphrases = []\n'


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[crisis]\nphrases = ["die"]\n[not_crisis]\nphrases = []\n', "'red_flag_today'"),
        (VALID.replace('[red_flag_today]\nphrases = ["saddle"]', "[red_flag_today]\n"), "'red_flag_today.phrases'"),
        (VALID.replace('["want * die"]', '"want to die"'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want", 3]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', "[]"), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["* die"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want die*"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["a~"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want * * die"]'), "'crisis.phrases'"),
        (VALID.replace('[crisis]\nphrases = ["want * die"]', "crisis = 1"), "'crisis'"),
        (VALID.replace("[not_crisis]\nphrases", "[not_crisis]\nphrase"), "'not_crisis.phrase'"),
        (VALID + "[red_flags]\nphrases = []\n", "'red_flags'"),
        (VALID.replace("phrases = []", 'phrases = ["a & b"]'), "'not_crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want & * die"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want &"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["a & b & c & d"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want| die"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["want|* die"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["~ab die"]'), "'crisis.phrases'"),
        (VALID.replace('["want * die"]', '["' + " ".join(["a|b|c|d|e|f|g|h"] * 4) + '"]'), "'crisis.phrases'"),
        (VALID + "[ambiguous]\nphrases = []\n", "'ambiguous.phrases'"),
    ],
)
def test_malformed_file_names_file_and_key(tmp_path, content, named):
    (tmp_path / "xx.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_phrases_from(tmp_path)
    assert "xx.toml" in str(error.value) and named in str(error.value)


def test_invalid_toml_and_empty_directory(tmp_path):
    with pytest.raises(ValueError, match="no safety phrase files"):
        load_phrases_from(tmp_path)
    with pytest.raises(ValueError, match="xx.toml"):
        parse_phrase_file("xx.toml", b"[crisis\nphrases = [")
    with pytest.raises(ValueError, match="xx.toml"):
        parse_phrase_file("xx.toml", b"\xff\xfe")


def test_valid_file_from_directory(tmp_path):
    (tmp_path / "xx.toml").write_text(VALID, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    (sets,) = load_phrases_from(str(tmp_path))
    assert (sets.language, sets.crisis, sets.red_flag_today, sets.not_crisis) == ("xx", ("want * die",), ("saddle",), ())
