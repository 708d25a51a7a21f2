/* The place picker of the dispatcher's case page and the operator console (one file for both).
 *
 * Type a few characters, a homophone or pinyin initials (obj → 瓯北街道); the server's place search
 * (/places/search, the router's matcher) answers, best first. ↑↓ move, Enter or Tab picks, Esc closes.
 * Enter pressed before the answer came picks its first place when it comes, so fast typists get
 * what they would have got by waiting. What is picked goes in the hidden code field; typing again
 * clears it (the server then resolves the typed name itself). Keys pressed while such a pick is on its
 * way are dropped (Esc cancels it), so they cannot change the query under it.
 *
 * PlacePicker.attach(input, {hidden, list, url, township, onPick})
 *   url       the search address (data-search on the input)
 *   township  () → a township code: search its villages instead of the townships ("" → nothing to search)
 *   onPick    (place, key) → true when it moved the focus itself
 */
(function () {
  "use strict";
  const DELAY_MS = 120;

  function attach(input, options) {
    const hidden = options.hidden, list = options.list, url = options.url || input.dataset.search;
    const township = options.township || null, onPick = options.onPick || (() => false);
    let matches = [], active = -1, timer = null, controller = null, asked = "", pickWhenReady = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function render() {
      list.replaceChildren();
      matches.forEach((place, i) => {
        const li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.dataset.i = i;
        li.dataset.code = place.code;
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = place.name;
        li.appendChild(name);
        if (place.how) {
          const how = document.createElement("span");
          how.className = "how";
          how.textContent = place.how;
          li.appendChild(how);
        }
        const small = document.createElement("small");
        small.textContent = place.county_name || "";
        li.appendChild(small);
        list.appendChild(li);
      });
      if (!matches.length) { close(); return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      input.setAttribute("aria-activedescendant", list.id + "-" + active);
      const li = list.children[active];
      if (li) li.scrollIntoView({block: "nearest"});
    }
    function pick(place, key) {
      input.value = place.name;
      hidden.value = place.code;
      matches = []; active = -1; close();
      hidden.dispatchEvent(new Event("change", {bubbles: true}));
      return onPick(place, key);
    }
    function cancel() {
      clearTimeout(timer); timer = null;
      if (controller) controller.abort();
      controller = null; pickWhenReady = null;
    }
    async function search() {
      timer = null;
      const q = input.value.trim();
      const code = township ? township() : "";
      if (!q || (township && !code)) { matches = []; render(); return; }
      if (controller) controller.abort();
      controller = new AbortController();
      asked = q;
      const params = new URLSearchParams({q});
      if (code) params.set("township", code);
      let results = [];
      try {
        const r = await fetch(url + "?" + params, {credentials: "same-origin", signal: controller.signal,
                                                   headers: {"Accept": "application/json"}});
        if (r.ok && (r.headers.get("Content-Type") || "").includes("json")) results = (await r.json()).results || [];
      } catch (e) {
        if (e.name === "AbortError") return;
      }
      controller = null;
      if (input.value.trim() !== asked) return;  // typed on meanwhile: that answer is coming
      matches = results;
      active = matches.length ? 0 : -1;
      const key = pickWhenReady;
      pickWhenReady = null;
      if (key && matches.length) { pick(matches[0], key); return; }
      if (document.activeElement === input) render();
    }
    function pending() { return timer !== null || controller !== null; }

    input.addEventListener("input", () => {
      hidden.value = "";
      cancel();
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", (e) => {
      if (e.isComposing) return;  // the input method is still choosing characters
      if (e.key === "Escape") { cancel(); if (!list.hidden) { close(); e.preventDefault(); } return; }
      if (pickWhenReady) { e.preventDefault(); return; }  // a pick is on its way: keys wait for it, not spoil it
      const picking = e.key === "Enter" || (e.key === "Tab" && !e.shiftKey);
      if (picking && pending() && input.value.trim()) {
        // the answer is on its way: pick its first place when it comes, do not submit meanwhile
        pickWhenReady = e.key;
        if (timer !== null) { clearTimeout(timer); search(); }
        e.preventDefault();
        return;
      }
      if (list.hidden || !matches.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        const step = e.key === "ArrowDown" ? 1 : -1;
        active = (active + step + matches.length) % matches.length;
        render(); e.preventDefault();
      } else if (picking && active >= 0) {
        const moved = pick(matches[active], e.key);
        if (e.key === "Enter" || moved) e.preventDefault();
      }
    });
    list.addEventListener("mousedown", (e) => {
      const li = e.target.closest("li");
      if (li) { e.preventDefault(); pick(matches[Number(li.dataset.i)], "click"); }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
    return {
      clear() { cancel(); input.value = ""; hidden.value = ""; matches = []; close(); },
      set(place) { cancel(); input.value = place.name; hidden.value = place.code; matches = []; close(); },
    };
  }

  window.PlacePicker = {attach};
})();
