"""The demo page in a real headless Chromium: type a sentence, click, see the entities and tags drawn.

Skipped (with the reason) when selenium, Chromium or chromedriver is missing; ``.ci/run`` installs
the distribution's ``chromium`` and ``chromium-driver`` where it can.
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("fastapi", reason="the service needs the [serve] extra: pip install -e '.[serve]'")
pytest.importorskip("selenium", reason="the browser test needs selenium (the [serve] extra)")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
NO_BROWSER = "no headless browser: apt-get install chromium chromium-driver"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason=NO_BROWSER)]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--window-size=1200,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _analyse(browser, url: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state")
                                     == "ready")
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state")
                                     == "done")


def test_the_page_draws_the_entities_and_tags_the_api_returns(ner_bundle, browser, http):
    from selenium.webdriver.common.by import By

    port = http.free_port()
    sentence = "Alice met Bob in Paris ."
    with http.running_server(http.serve_command(ner_bundle, port), port):
        _analyse(browser, f"http://127.0.0.1:{port}/", sentence)
        marks = browser.find_elements(By.CSS_SELECTOR, "#entities mark.entity")
        drawn = [(m.get_attribute("data-label"), m.text.rsplit("\n", 1)[0].removesuffix(m.get_attribute("data-label"))
                  .strip()) for m in marks]
        tags = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#tokens .token .tag")]
        words = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#tokens .token .word")]
        colours = {m.get_attribute("data-label"): m.value_of_css_property("background-color") for m in marks}
        record = http.post_json(f"http://127.0.0.1:{port}/v1/predict", {"texts": [sentence]})[1]["results"][0]
    assert words == record["tokens"] == sentence.split() and tags == record["tags"]
    assert drawn == [("PER", "Alice"), ("PER", "Bob"), ("LOC", "Paris")], (drawn, record["tags"])
    assert colours["PER"] != colours["LOC"]  # one colour per entity type


def test_the_page_draws_a_classifiers_probabilities_as_bars(classifier_bundle, browser, http):
    from selenium.webdriver.common.by import By

    port = http.free_port()
    with http.running_server(http.serve_command(classifier_bundle, port), port):
        _analyse(browser, f"http://127.0.0.1:{port}/", "a great film !")
        rows = browser.find_elements(By.CSS_SELECTOR, "#classes .class-row")
        record = http.post_json(f"http://127.0.0.1:{port}/v1/predict", {"texts": ["a great film !"]})[1]["results"][0]
        widths = {row.get_attribute("data-label"): row.find_element(By.CSS_SELECTOR, ".bar").get_attribute("style")
                  for row in rows}
    assert set(widths) == {"neg", "pos"}
    for label, p in record["probabilities"].items():
        assert f"width: {100 * p:.1f}%" in widths[label]
