"""Reading what customers write about the shop: products, options, items, payment methods,
addresses, in the catalogue's words.

The NLU (kefu/nlu, Rasa's pipeline) reads every message once: intent, entities, language,
mood. What a form needs beyond that (which items of this order, which version, which payment
method) depends on the order and the catalogue, so the actions ask this package, after the
entities. ``catalogue_words`` rewrites a message in the catalogue's English names and option
words (``option_words.yml``, five languages); ``matching`` finds products, items, options,
payment methods and addresses in it. The store parses no text.
"""
