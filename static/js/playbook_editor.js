/* Playbook designer: shows the parameters of the chosen trigger and the fields of each step's kind,
   and asks the preview endpoint how many accounts the unsaved form would enrol today. Plain DOM;
   without JS every field shows and the form still saves. */
(function () {
  "use strict";
  var form = document.getElementById("playbook-form");
  var configNode = document.getElementById("playbook-editor-config");
  if (!form || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var text = config.text;
  var kindSelect = form.querySelector("[data-trigger-kind]");

  function showTriggerParams() {
    var params = config.params[kindSelect.value] || [];
    form.querySelectorAll("[data-param-field]").forEach(function (node) {
      node.hidden = params.indexOf(node.getAttribute("data-param-field")) < 0;
    });
  }

  function showStepKinds() {
    form.querySelectorAll(".playbook-step").forEach(function (step) {
      var select = step.querySelector("select[name$='-kind']");
      if (!select) return;
      step.querySelectorAll("[data-step-kind]").forEach(function (node) {
        node.hidden = node.getAttribute("data-step-kind") !== select.value;
      });
    });
  }

  if (kindSelect) {
    kindSelect.addEventListener("change", showTriggerParams);
    showTriggerParams();
  }
  form.addEventListener("change", function (event) {
    if (event.target.name && /-kind$/.test(event.target.name)) showStepKinds();
  });
  showStepKinds();

  var output = document.getElementById("playbook-preview");
  var button = form.querySelector("[data-preview]");
  function line(content, className, tag) {
    var node = document.createElement(tag || "div");
    if (className) node.className = className;
    node.textContent = content;
    return node;
  }
  if (button && output) {
    button.addEventListener("click", function () {
      output.textContent = text.checking;
      fetch(form.getAttribute("data-preview-url"), {method: "POST", body: new FormData(form),
                                                    credentials: "same-origin"})
        .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
        .then(function (result) {
          var ok = result[0], body = result[1];
          output.textContent = "";
          if (!ok) {
            Object.keys(body).forEach(function (key) {
              output.appendChild(line(key + ": " + [].concat(body[key]).join(" "), "errorlist"));
            });
            return;
          }
          output.appendChild(line(body.count + " " + text.would_enrol, "preview-count"));
          var held = body.held || {};
          var heldParts = Object.keys(held).filter(function (k) { return held[k]; }).map(function (k) {
            return (config.held_labels[k] || k) + " " + held[k];
          });
          if (heldParts.length) output.appendChild(line(text.held + ": " + heldParts.join(", "), "muted small"));
          var list = document.createElement("ul");
          (body.sample || []).forEach(function (row) {
            list.appendChild(line(row.name + (row.why ? " — " + row.why : ""), "", "li"));
          });
          if (!(body.sample || []).length) output.appendChild(line(text.none, "muted small"));
          output.appendChild(list);
        })
        .catch(function () { output.textContent = text.failed; });
    });
  }
})();
