"""``__all__`` of the lazily loading packages: a literal list (so linters see the re-exports) that
names exactly what the package gives, each name resolving."""

from __future__ import annotations

import lstm_nlp.data
import lstm_nlp.modules


def test_data_all_is_the_lazy_names():
    package = lstm_nlp.data
    assert package.__all__ == sorted([*package._MODULE_OF, "IGNORE_INDEX"])
    assert all(getattr(package, name) is not None for name in package.__all__)


def test_modules_all_holds_the_teaching_names_and_each_resolves():
    package = lstm_nlp.modules
    assert package.__all__ == sorted(set(package.__all__)) and set(package._TEACHING) <= set(package.__all__)
    assert all(getattr(package, name) is not None for name in package.__all__)
