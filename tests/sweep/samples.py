"""Municipality samples of the sweep tests (codes of ../shared/data/japan_municipalities)."""

SAMPLE10 = (
    "012092",  # Yūbari, Hokkaido — hokkaido area
    "023078",  # Sotogahama, Aomori — tohoku
    "083097",  # Ōarai, Ibaraki — tepco
    "163210",  # Funahashi, Toyama — hokuriku
    "203033",  # Koumi, Nagano — chubu
    "254410",  # Toyosato, Shiga — kansai
    "313289",  # Chizu, Tottori — chugoku
    "363014",  # Katsuura, Tokushima — shikoku
    "403482",  # Hisayama, Fukuoka — kyushu
    "473022",  # Ōgimi, Okinawa — okinawa
)
"""Ten small municipalities (3,000–17,000 residents), one in each of the ten electricity areas."""
