// Draws the plotly figures whose JSON specs the page carries (no inline scripts, nothing from outside).
(function () {
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll(".bm-figure").forEach(function (div) {
      var holder = document.getElementById(div.getAttribute("data-spec"));
      if (!holder) { return; }
      var spec = JSON.parse(holder.textContent);
      Plotly.newPlot(div, spec.data, spec.layout, {displaylogo: false, responsive: true});
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
