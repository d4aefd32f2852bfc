/* Segment rule builder: edits the JSON tree in the form's rules textarea and shows a live preview
   count from the preview endpoint. Plain DOM, no libraries; without JS the textarea still works. */
(function () {
  "use strict";
  var root = document.getElementById("rule-builder");
  var input = document.querySelector("[data-rules-input]");
  var configNode = document.getElementById("segment-editor-config");
  if (!root || !input || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var fields = {};
  config.fields.forEach(function (f) { fields[f.name] = f; });
  var text = config.text;
  var preview = document.getElementById("segment-preview");
  var state;
  try { state = JSON.parse(input.value || "{}"); } catch (e) { return; }  // leave bad JSON to the textarea
  if (!state.conditions) state = { op: "and", conditions: [] };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function select(options, value, onChange, label) {
    var s = el("select", { "aria-label": label || "" });
    options.forEach(function (o) {
      var opt = el("option", { value: String(o[0]), text: o[1] });
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }

  function defaultValue(field, op) {
    var kind = fields[field].kind;
    if (op === "is_empty" || op === "is_not_empty" || kind === "added") return undefined;
    if (kind === "number") return op === "between" ? [0, 0] : 0;
    if (kind === "tag") return [];
    var choices = config.choices[kind] || [];
    return choices.length ? [choices[0][0]] : [];
  }

  function valueInput(cond) {
    var field = fields[cond.field];
    var kind = field.kind;
    if (cond.op === "is_empty" || cond.op === "is_not_empty" || kind === "added") return el("span");
    if (kind === "number") {
      var make = function (index) {
        var current = cond.op === "between" ? cond.value[index] : cond.value;
        var i = el("input", { type: "number", min: "0", step: "any", value: current === undefined ? "" : current });
        i.addEventListener("input", function () {
          var n = i.value === "" ? "" : Number(i.value);
          if (cond.op === "between") cond.value[index] = n; else cond.value = n;
          changed(false);
        });
        return i;
      };
      return cond.op === "between" ? el("span", {}, [make(0), el("span", { text: " – " }), make(1)]) : make(0);
    }
    if (kind === "tag") {
      var t = el("input", { type: "text", placeholder: text.tags_hint, value: (cond.value || []).join(", ") });
      t.addEventListener("input", function () {
        cond.value = t.value.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
        changed(false);
      });
      return t;
    }
    var multi = el("select", { multiple: "multiple", size: "3" });
    (config.choices[kind] || []).forEach(function (o) {
      var opt = el("option", { value: String(o[0]), text: o[1] });
      if ((cond.value || []).map(String).indexOf(String(o[0])) >= 0) opt.selected = true;
      multi.appendChild(opt);
    });
    multi.addEventListener("change", function () {
      cond.value = Array.prototype.filter.call(multi.options, function (o) { return o.selected; }).map(function (o) {
        return kind === "stage" || kind === "owner" ? Number(o.value) : o.value;
      });
      changed(false);
    });
    return multi;
  }

  function conditionRow(cond, parent, index) {
    var fieldSelect = select(config.fields.map(function (f) { return [f.name, f.label]; }), cond.field, function (v) {
      cond.field = v; cond.op = fields[v].ops[0]; cond.value = defaultValue(v, cond.op); changed(true);
    });
    var opSelect = select(fields[cond.field].ops.map(function (o) { return [o, config.ops[o] || o]; }), cond.op, function (v) {
      cond.op = v; cond.value = defaultValue(cond.field, v); changed(true);
    });
    var remove = el("button", { type: "button", "class": "link danger-text", text: text.remove });
    remove.addEventListener("click", function () { parent.conditions.splice(index, 1); changed(true); });
    return el("div", { "class": "rule-condition row" }, [fieldSelect, opSelect, valueInput(cond), remove]);
  }

  function groupBox(group, parent, index) {
    var box = el("div", { "class": "rule-group" });
    var head = el("div", { "class": "row" }, [
      select([["and", text.and], ["or", text.or]], group.op, function (v) { group.op = v; changed(true); }),
    ]);
    if (parent) {
      var remove = el("button", { type: "button", "class": "link danger-text", text: text.remove });
      remove.addEventListener("click", function () { parent.conditions.splice(index, 1); changed(true); });
      head.appendChild(remove);
    }
    box.appendChild(head);
    group.conditions.forEach(function (item, i) {
      box.appendChild(item.conditions ? groupBox(item, group, i) : conditionRow(item, group, i));
    });
    var addCond = el("button", { type: "button", "class": "secondary", text: text.add_condition });
    addCond.addEventListener("click", function () {
      group.conditions.push({ field: "arr", op: "gte", value: 0 }); changed(true);
    });
    var actions = el("div", { "class": "row" }, [addCond]);
    var addGroup = el("button", { type: "button", "class": "secondary", text: text.add_group });
    addGroup.addEventListener("click", function () {
      group.conditions.push({ op: "or", conditions: [] }); changed(true);
    });
    actions.appendChild(addGroup);
    box.appendChild(actions);
    return box;
  }

  function render() {
    root.innerHTML = "";
    root.appendChild(groupBox(state, null, 0));
  }

  var timer = null;
  function changed(rerender) {
    input.value = JSON.stringify(state);
    if (rerender) render();
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 300);
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function refreshPreview() {
    if (!preview) return;
    preview.textContent = text.checking;
    fetch(root.getAttribute("data-preview-url"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      body: JSON.stringify({ rules: state }),
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      preview.innerHTML = "";
      if (!result.ok) {
        preview.appendChild(el("span", { "class": "errorlist", text: (result.data.rules || []).join(" ") }));
        return;
      }
      preview.appendChild(el("strong", { "class": "preview-count", text: String(result.data.count) }));
      preview.appendChild(el("span", { text: " " + text.matches + ": " }));
      preview.appendChild(el("span", { "class": "muted small", text: result.data.sample.map(function (a) { return a.name; }).join(", ") }));
    }).catch(function () { preview.textContent = ""; });
  }

  input.addEventListener("change", function () {
    try { state = JSON.parse(input.value); render(); refreshPreview(); } catch (e) { /* keep typing */ }
  });
  render();
  refreshPreview();
})();
