"""Find which products and which variant options a customer's words mention.

Customers say "the keyboard", "tshirt", "a blue water bottle in glass". Matching is done
on normalised words so that plural forms, hyphens and spacing do not matter.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Sequence, Set, Tuple

from kefu.store.records import Address, Order, OrderItem, PaymentMethod, Product, Variant
from kefu.understanding.cues import before_cue, says, spaced_cue

_WORD = re.compile(r"[a-z0-9%.]+")


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("sh", "ch", "ss")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> List[str]:
    """Lower-case, singular words of ``text``; hyphenated words are also kept joined."""
    lowered = (text or "").lower()
    found = [_singular(w.strip(".")) for w in _WORD.findall(lowered.replace("-", " "))]
    found += [_singular(w) for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", lowered)]
    found += [w.replace("-", "") for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", lowered)]
    return [w for w in found if w]


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def product_mention_score(text: str, product_name: str) -> int:
    """How strongly ``text`` names the product: 0 none, 1 head noun only, 2+ fuller names."""
    text_words: Set[str] = set(words(text))
    name_words = words(product_name)
    if _compact(product_name) and _compact(product_name) in _compact(text):
        return len(name_words) + 1
    head = name_words[-1] if name_words else ""
    if head not in text_words:
        return 0
    return sum(1 for w in name_words if w in text_words)


def rank_products(text: str, products: Iterable[Product]) -> List[Product]:
    """Products mentioned in ``text``; when one names the product fully, only the best kept."""
    scored: List[Tuple[int, Product]] = []
    for product in products:
        score = product_mention_score(text, product.name)
        if score:
            scored.append((score, product))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    # "camera" names three products equally; "digital camera" names one better than the rest.
    return [product for score, product in sorted(scored, key=lambda s: -s[0]) if score == best]


def mentioned_values(text: str, variants: Sequence[Variant]) -> Dict[str, List[str]]:
    """Every value of each option that the text mentions, longest first; a value said only
    inside a longer one ("gold" in "rose gold") is not counted."""
    found: Dict[str, Set[str]] = {}
    names = {name for variant in variants for name in variant.options}
    for variant in variants:
        for name, value in variant.options.items():
            if _mentions_option(text, name, value) and not _said_for_another(text, name, value, names):
                found.setdefault(name, set()).add(value)
    return {
        name: sorted(
            (v for v in values if not any(v != other and v.lower() in other.lower() for other in values)),
            key=lambda v: (-len(v), v),
        )
        for name, values in found.items()
    }


def _said_for_another(text: str, name: str, value: str, names: Set[str]) -> bool:
    """ "frame color black": black is the frame's, not the lenses' (both can be black)."""
    lowered = text.lower()
    if re.search(rf"\b{re.escape(name.lower())}\s+{re.escape(value.lower())}\b", lowered):
        return False
    return any(
        other != name and re.search(rf"\b{re.escape(other.lower())}\s+{re.escape(value.lower())}\b", lowered)
        for other in names
    )


def mentioned_options(text: str, variants: Sequence[Variant]) -> Dict[str, str]:
    """Option values of these variants that the text mentions, e.g. {"switch type": "clicky"}
    (the longest when several values of one option are said)."""
    return {name: values[0] for name, values in mentioned_values(text, variants).items() if values}


# Other words customers use for an option value of the catalogue.
VALUE_ALIASES = {
    "Google Assistant": ("google home", "google nest", "hey google"),
    "Amazon Alexa": ("alexa", "echo"),
    "Apple HomeKit": ("homekit", "siri", "apple home"),
    "space grey": ("space gray",),
    "gray": ("grey",),
    "grey": ("gray",),
}


def _mentions_option(text: str, name: str, value: str) -> bool:
    lowered_text = (text or "").lower()
    if any(re.search(rf"\b{re.escape(alias)}\b", lowered_text) for alias in VALUE_ALIASES.get(value, ())):
        return True
    text_words = set(words(text))
    lowered = value.lower()
    if lowered in ("yes", "no", "none"):
        # "water resistance yes" / "backlight none" say the value after the name.
        said = re.search(rf"\b{re.escape(name.lower())}\s*(?::|is|=)?\s*(yes|no|none)\b", lowered_text)
        if said:
            return said.group(1) == lowered or {said.group(1), lowered} == {"no", "none"}
        # "waterproof" means waterproof: yes; "not waterproof" / "no backlight" mean no / none.
        named = all(w in text_words for w in words(name))
        negated = bool(re.search(r"\b(not|no|none|without|non)\b", text.lower()))
        return named and (negated == (lowered != "yes"))
    if len(value) <= 3 and value.isalpha() and value.isupper():
        # Sizes S, M, L, XL: "size m" or a capital M alone, never the "s" of "what's".
        return bool(
            re.search(rf"\bsize\s+{re.escape(lowered)}\b", text.lower())
            or re.search(rf"(?<![\w']){re.escape(value.upper())}(?![\w'])", text)
        )
    value_words = words(value)
    if value_words and all(w in text_words for w in value_words):
        return True
    # Spelling variants of composite values ("wifi" for "Wi-Fi", "1000 ml" for "1000ml"); a plain
    # word must match as a word ("blue" is not in "bluetooth").
    # Only punctuation joins: "brand B" must not be found in "brand Brand C" run together.
    composite = bool(re.search(r"[^\w\s]", value))
    return composite and len(_compact(value)) > 3 and _compact(value) in _compact(text)


def variants_matching(variants: Sequence[Variant], wanted: Dict[str, str]) -> List[Variant]:
    return [v for v in variants if all(v.options.get(k) == val for k, val in wanted.items())]


def _named_items(text: str, items: Sequence[OrderItem]) -> List[OrderItem]:
    """Items whose product the text names. Of products sharing a last word, only those named
    most fully count: "the dumbbell set" is not the Luggage Set, "the tea kettle ... electric"
    not the Electric Kettle; "the kettle" names both kettles."""
    scores = {item.item_id: product_mention_score(text, item.name) for item in items}
    best_of_head: Dict[str, int] = {}
    for item in items:
        head = words(item.name)[-1]
        best_of_head[head] = max(best_of_head.get(head, 0), scores[item.item_id])
    return [i for i in items if scores[i.item_id] and scores[i.item_id] == best_of_head[words(i.name)[-1]]]


def _where_named(text: str, product_name: str) -> re.Match[str] | None:
    """Where the text says the product's last word ("e-reader", "kettles", "ereader")."""
    tokens = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", product_name.lower())
    if not tokens:
        return None
    head = tokens[-1]
    forms = sorted({head, head.replace("-", ""), _singular(head)}, key=len, reverse=True)
    return re.search("|".join(re.escape(form) for form in forms), (text or "").lower())


def _identifying_words(text: str, product_name: str) -> str:
    """The words that say which item is meant: up to where the new version begins after the
    product's name ("the jacket in L, black | with size M"; "I'd like to" is before the name)."""
    named = _where_named(text, product_name)
    start = named.end() if named else 0
    return text[:start] + before_cue("new_version", text[start:])


def _most_described(text: str, same_product: Sequence[OrderItem]) -> List[OrderItem]:
    """Of items of one product, those whose own option values the text names most ("the
    jacket in L, black": the L black one, not the XL navy one that shares a full zipper)."""
    which = _identifying_words(text, same_product[0].name)
    counts = [(sum(_mentions_option(which, k, v) for k, v in i.options.items()), i) for i in same_product]
    most = max((count for count, _ in counts), default=0)
    return [item for count, item in counts if count == most] if most else []


# Where one item's description ends and the next begins: "the grill in medium, the water bottle and ...".
_PARTS = re.compile(rf"{spaced_cue('and').pattern}|;|:|,(?=\s*(?:the|my|and|only|but|except)\b)", re.IGNORECASE)


def _parts(text: str, items: Sequence[OrderItem]) -> List[str]:
    """The text cut where items are listed; a piece naming no item joins the next one
    ("the blue and the red t-shirt" stays whole)."""
    parts, waiting = [], ""
    for piece in _PARTS.split(text or ""):
        waiting = f"{waiting} and {piece}" if waiting else piece
        if _named_items(waiting, items):
            parts.append(waiting)
            waiting = ""
    if waiting and parts:
        parts[-1] += " and " + waiting
    return parts or [text or ""]


def mentioned_items(text: str, items: Sequence[OrderItem]) -> List[OrderItem]:
    """Items of an order that the text names: "the kettle and the wall clock", "all of them".

    An item is named by its product name (or the product's head noun, "the kettle") and, when
    several items share a product, by one of its option values ("the black one"); each part
    of a list names its own ("the grill in medium, the water bottle and the portable grill").
    """
    chosen: List[OrderItem] = []
    left_out: List[OrderItem] = []
    for part in _parts(text, items):
        # "Not the earbuds: only the tablet", "all of them except the lamp".
        left = _left_out(part, items)
        left_out += left
        named = [item for item in _mentioned_in(part, items) if all(item is not out for out in left)]
        # By identity: two identical items of an order are equal records but two items.
        chosen += [item for item in named if all(item is not c for c in chosen)]
    return [item for item in chosen if all(item is not out for out in left_out)]


def _left_out(part: str, items: Sequence[OrderItem]) -> List[OrderItem]:
    """Items the part names just after "not" / "except" ("I'm not happy with the kettle"
    names the kettle to return it)."""
    lowered = (part or "").lower()
    out = []
    for item in _named_items(part, items):
        where = _where_named(part, item.name)
        if where is None:
            continue
        before = [w for w in lowered[: where.start()].split() if w not in _ARTICLES]
        # The words of the product's own name before its last one ("wireless" earbuds) do not count.
        before = [w for w in before if w not in words(item.name)]
        if says("excluded", " ".join(before[-2:])):
            out.append(item)
    return out


# Skipped when looking just before an item's name ("not the earbuds", "pas les écouteurs").
_ARTICLES = frozenset(
    "the my a an this that le la les l' un une mon ma mes el los las mi mis der die das den dem ein eine meine".split()
)


def _mentioned_in(text: str, items: Sequence[OrderItem]) -> List[OrderItem]:
    lowered = (text or "").lower()
    if says("whole_order", lowered):
        return list(items)
    named = _named_items(text, items)
    by_product: Dict[str, List[OrderItem]] = {}
    for item in named:
        by_product.setdefault(item.name, []).append(item)
    chosen: List[OrderItem] = []
    for same_product in by_product.values():
        if len(same_product) == 1:
            chosen += same_product
            continue
        if len({i.item_id for i in same_product}) == 1 and not says("several", lowered):
            # Two identical items and "the water bottle": one of them is meant.
            chosen.append(same_product[0])
            continue
        # Several of one product: keep those whose options the text names most, else all.
        chosen += _most_described(text, same_product) or same_product
    return chosen


def orders_naming(text: str, orders: Sequence[Order]) -> List[Order]:
    """The orders holding the items a text names without an order number ("return the kettle
    and the clock"): those with the most of the named items; none when no item is named, or
    when the words name every item ("all of them") rather than any in particular."""
    if says("whole_order", (text or "").lower()):
        return []
    counted = [(len(mentioned_items(text, order.items)), order) for order in orders]
    most = max((count for count, _ in counted), default=0)
    return [order for count, order in counted if count == most] if most else []


def mentioned_payment_method(
    text: str, methods: Sequence[PaymentMethod], original_id: str | None = None
) -> PaymentMethod | None:
    """The customer's payment method the text points to, if exactly one fits.

    Understands "the original payment method" / "the same card", a source ("gift card",
    "PayPal", "credit card"), a brand ("visa") and the last four digits ("ending in 4321").
    """
    # A memory or SIM card is an option of a product, not a way to pay.
    lowered = re.sub(r"\b(?:micro ?sd|sd|cf|memory|sim) cards?\b", " ", (text or "").lower())
    if original_id and says("original_payment", lowered):
        return next((m for m in methods if m.id == original_id), None)
    digits = re.findall(r"\b(\d{4})\b", lowered)
    candidates = list(methods)
    if digits:
        candidates = [m for m in candidates if m.last_four in digits]
    brands = [m for m in candidates if m.brand and m.brand.lower() in lowered]
    if brands:
        candidates = brands
    elif re.search(r"gift ?card", lowered):
        candidates = [m for m in candidates if m.is_gift_card]
    elif "paypal" in lowered or "pay pal" in lowered:
        candidates = [m for m in candidates if m.source == "paypal"]
    elif re.search(r"credit ?card|\bcard\b", lowered):
        candidates = [m for m in candidates if m.source == "credit_card"]
    elif not digits:
        return None
    return candidates[0] if len(candidates) == 1 else None


def wanted_variant(text: str, item: OrderItem, variants: Sequence[Variant]) -> Variant | None:
    """The version of ``item``'s product that the text asks for: "the same shirt but size L".

    The item's current options are kept except those the text names with another value; the
    result must be a different version. Availability is left to the caller to explain.
    """
    # "the water bottle in stainless steel with material glass": of the values said for an
    # option, the one the item does not have yet is the new one.
    named = {}
    for name, values in mentioned_values(text, variants).items():
        new = [v for v in values if item.options.get(name) != v]
        if new:
            named[name] = new[0]
    if not named:
        return None
    wanted = {**item.options, **named}
    exact = [v for v in variants if v.options == wanted and v.item_id != item.item_id]
    if exact:
        return exact[0]
    # Options may not combine as asked: accept the single version that has every named value.
    close = [v for v in variants if all(v.options.get(k) == val for k, val in named.items())]
    return close[0] if len(close) == 1 else None


def requested_swaps(
    text: str, items: Sequence[OrderItem], variants_of: Dict[str, Sequence[Variant]]
) -> List[tuple[OrderItem, Variant]]:
    """(item, new version) pairs the text asks for, one per named item.

    "the notebook in A5 and the kettle in 2L" is read part by part; "the kettle for a new one
    exactly like it" is the kettle's own version; when the text names new options but no
    item, the one item whose product has those options is meant.
    """
    parts = [p for p in _PARTS.split(text or "") if p.strip()]
    swaps: List[tuple[OrderItem, Variant]] = []
    used: List[OrderItem] = []
    for part in parts:
        for item in mentioned_items(part, [i for i in items if i not in used]):
            variants = variants_of.get(item.product_id, ())
            variant = wanted_variant(part, item, variants)
            if variant is None and says("same_version", part.lower()):
                # "the charger for a new one exactly like it": the item's own version.
                variant = next((v for v in variants if v.item_id == item.item_id), None)
            if variant is not None:
                swaps.append((item, variant))
                used.append(item)
    if not swaps and not _named_items(text, items):
        candidates = [
            (item, variant)
            for item in items
            if (variant := wanted_variant(text, item, variants_of.get(item.product_id, ()))) is not None
        ]
        if len(candidates) == 1:
            swaps = candidates
    return swaps


_ADDRESS = re.compile(
    r"(?P<address1>\d+[\w .'-]*?[A-Za-z]\.?)"
    r"(?:,?\s*(?P<address2>(?:apt|apartment|suite|ste|unit|floor|#)\.?\s*[\w-]+))?"
    r",\s*(?P<city>[A-Za-z][A-Za-z .'-]*?),\s*(?P<state>[A-Za-z]{2})\s*,?\s*(?P<zip>\d{5})"
    r"(?:\s*,?\s*(?P<country>USA|United States|US))?\b",
    re.IGNORECASE,
)


def address_in(text: str) -> Address | None:
    """A US address written on one line: "445 Maple Drive, Suite 394, Fort Worth, TX 76165"."""
    match = _ADDRESS.search(text or "")
    if match is None:
        return None
    address2 = (match["address2"] or "").strip()
    if address2.lower().startswith(("apt", "apartment", "ste", "unit", "floor", "#", "suite")):
        address2 = address2[0].upper() + address2[1:]
    return Address(
        address1=match["address1"].strip(),
        address2=address2,
        city=match["city"].strip(),
        state=match["state"].upper(),
        country="USA",
        zip=match["zip"],
    )


def ambiguous_mention(text: str, items: Sequence[OrderItem]) -> List[OrderItem]:
    """Different items of one product that the text names without saying which ("the t-shirt"
    when the order has a blue M and a red L one); empty when the text is clear."""
    if says("whole_order", text):
        return []
    named = _named_items(text, items)
    for name in dict.fromkeys(item.name for item in named):
        group = [item for item in named if item.name == name]
        distinct = {item.item_id for item in group}
        said = _most_described(text, group)
        if len(distinct) > 1 and not said:
            return group
    return []
