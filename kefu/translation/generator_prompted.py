"""Translation by few-shot completion with the configured generator (gemma-3-270m by default).

A base model translates only when shown the pattern: the prompt gives worked pairs in the
same direction, then the source line, and the model completes the target line. The examples
are shop sentences written by the team (not benchmark data). Quality is gist level on a
270M model; see reports/translation.md.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from kefu.generation.base import Generator
from kefu.translation.base import Translation, TranslationError, Translator, language_name

# The same three shop sentences in every language, so any pair of languages has examples.
EXAMPLES: Dict[str, List[str]] = {
    "en": [
        "Your order has been shipped and should arrive within 3 to 5 business days.",
        "You can return a delivered item within 30 days for a full refund.",
        "The blue backpack is out of stock, but the black one is available.",
    ],
    "zh": [
        "您的订单已发货，预计在3到5个工作日内送达。",
        "已送达的商品可在30天内退货并获得全额退款。",
        "蓝色背包已售罄，但黑色背包有货。",
    ],
    "fr": [
        "Votre commande a été expédiée et devrait arriver sous 3 à 5 jours ouvrés.",
        "Vous pouvez retourner un article livré dans les 30 jours pour un remboursement complet.",
        "Le sac à dos bleu est en rupture de stock, mais le noir est disponible.",
    ],
    "es": [
        "Su pedido ha sido enviado y debería llegar en 3 a 5 días hábiles.",
        "Puede devolver un artículo entregado en un plazo de 30 días para obtener un reembolso completo.",
        "La mochila azul está agotada, pero la negra está disponible.",
    ],
    "de": [
        "Ihre Bestellung wurde versandt und sollte in 3 bis 5 Werktagen ankommen.",
        "Sie können einen gelieferten Artikel innerhalb von 30 Tagen gegen volle Erstattung zurückgeben.",
        "Der blaue Rucksack ist ausverkauft, aber der schwarze ist verfügbar.",
    ],
}


def build_prompt(text: str, source: str, target: str) -> str:
    """Few-shot prompt; the fixed prefix is identical for a direction, so llama.cpp reuses its cache."""
    src_name, tgt_name = language_name(source), language_name(target)
    if source not in EXAMPLES or target not in EXAMPLES:
        raise TranslationError(f"no few-shot examples for {source}->{target}")
    pairs: List[Tuple[str, str]] = list(zip(EXAMPLES[source], EXAMPLES[target], strict=True))
    lines = [f"Translate {src_name} to {tgt_name}.", ""]
    for src, tgt in pairs:
        lines += [f"{src_name}: {src}", f"{tgt_name}: {tgt}", ""]
    # Newlines inside the source would end the completion early: the model answers one line.
    lines += [f"{src_name}: {' '.join(text.split())}", f"{tgt_name}:"]
    return "\n".join(lines)


class GeneratorPromptedTranslator(Translator):
    name = "generator_prompted"

    def __init__(self, generator: Generator, max_tokens: int = 160, timeout: float = 30.0) -> None:
        self.generator = generator
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.name = f"generator_prompted:{generator.name}"

    def _translate(self, text: str, source: str, target: str) -> Translation:
        prompt = build_prompt(text, source, target)
        result = self.generator.generate(prompt, max_tokens=self.max_tokens, stop=("\n",), timeout=self.timeout)
        if not result.text:
            raise TranslationError(f"{self.generator.name} returned an empty translation")
        return Translation(text=result.text, machine=True, backend=self.name)
