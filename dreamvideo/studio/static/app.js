// The studio page: controls made from the server's /api/controls, previews streamed from
// /api/preview/<id>/events. Every action goes through the JSON endpoints under /api.

const token = new URLSearchParams(location.search).get("token");
const page = Math.random().toString(36).slice(2);  // our previews cancel only our own
const $ = (selector) => document.querySelector(selector);
const state = { source: null, preview: null, events: null, history: [], timer: null };

function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `token ${token}`;
  return fetch(`/api${path}`, { ...options, headers }).then(async (response) => {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  });
}

function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

function showError(message) {
  $("#error").textContent = message || "";
  for (const problem of document.querySelectorAll(".problem")) problem.textContent = "";
  const name = (message || "").split(" ")[0];  // the CLI's message starts with the key: dream.steps (--steps) ...
  const problem = document.querySelector(`.control[data-name="${CSS.escape(name)}"] .problem`);
  if (problem) problem.textContent = message;
}

function control(spec) {
  const box = document.createElement("label");
  box.className = "control";
  box.dataset.name = spec.name;
  box.append(spec.name);
  let input;
  if (spec.kind === "choice") {
    input = document.createElement("select");
    for (const choice of ["", ...spec.choices]) input.add(new Option(choice || "(default)", choice));
  } else if (spec.kind === "bool") {
    input = document.createElement("select");
    for (const choice of ["false", "true"]) input.add(new Option(choice, choice));
  } else {
    input = document.createElement("input");
    input.type = "text";
    input.inputMode = spec.kind === "int" || spec.kind === "float" ? "decimal" : "text";
  }
  input.name = spec.name;
  input.value = spec.value;
  input.title = spec.help;
  input.addEventListener("change", () => schedulePreview());
  const help = document.createElement("small");
  help.textContent = spec.help;
  const problem = document.createElement("span");
  problem.className = "problem";
  box.append(input, help, problem);
  return box;
}

function settings() {
  const values = {};
  for (const input of $("#controls").elements) if (input.name) values[input.name] = input.value;
  return values;
}

function setControls(specs) {
  const form = $("#controls");
  form.replaceChildren(...specs.map(control));
}

function schedulePreview() {
  clearTimeout(state.timer);
  state.timer = setTimeout(preview, 120);
}

async function preview() {
  if (!state.source) return showError("choose an image or a video first");
  const result = $("#result");
  if (state.events) state.events.close();  // the server cancels the older one between octaves
  showError("");
  result.dataset.state = "working";
  let id;
  try {
    ({ id } = await post("/preview", { page, source: state.source.id, settings: settings() }));
  } catch (error) {
    result.dataset.state = "error";
    return showError(error.message);
  }
  const url = `/api/preview/${id}/events` + (token ? `?token=${encodeURIComponent(token)}` : "");
  const events = new EventSource(url);
  state.events = events;
  const asked = settings();
  events.addEventListener("octave", (message) => {
    const data = JSON.parse(message.data);
    result.src = data.image;
    $("#caption").textContent = `octave ${data.index + 1} of ${data.octaves}`;
  });
  events.addEventListener("done", (message) => {
    const data = JSON.parse(message.data);
    result.src = data.image;
    result.dataset.state = "done";
    $("#caption").textContent = "done";
    events.close();
    remember(data.image, asked);
    exportPreset(false);
  });
  events.addEventListener("error", (message) => {
    events.close();
    if (!message.data) return;
    result.dataset.state = "error";
    showError(JSON.parse(message.data).message);
  });
  events.addEventListener("cancelled", () => events.close());
}

function remember(image, asked) {
  state.history.unshift({ image, settings: asked });
  state.history.length = Math.min(state.history.length, 20);
  $("#history").replaceChildren(...state.history.map((item) => {
    const thumb = document.createElement("img");
    thumb.src = item.image;
    thumb.alt = "an earlier preview";
    thumb.addEventListener("click", () => {
      for (const [name, value] of Object.entries(item.settings)) {
        const input = $("#controls").elements.namedItem(name);
        if (input) input.value = value;
      }
      $("#result").src = item.image;
      $("#result").dataset.state = "done";
    });
    return thumb;
  }));
}

async function exportPreset(download) {
  try {
    const made = await post("/export", { source: state.source && state.source.id, settings: settings() });
    $("#command").textContent = made.command;
    if (download) {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([made.toml], { type: "application/toml" }));
      link.download = "studio-preset.toml";
      link.click();
    }
  } catch (error) {
    showError(error.message);
  }
}

async function upload(file) {
  const body = new FormData();
  body.append("file", file);
  const headers = token ? { Authorization: `token ${token}` } : {};
  const response = await fetch("/api/source", { method: "POST", body, headers });
  const made = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("#result").dataset.state = "error";
    return showError(made.detail || response.statusText);
  }
  state.source = made;
  $("#original").src = made.image;
  $("#result").src = made.image;
  $("#caption").textContent = `${made.name}, ${made.width}x${made.height}`;
  preview();
}

async function watchStatus() {
  const status = await api("/status").catch((error) => ({ error: error.message }));
  $("#status").textContent = status.error ? status.error
    : status.loading ? `${status.loading}…` : status.ready && status.ready.length ? `ready (${status.ready.join(", ")})`
    : "starting…";
  if (!status.ready || !status.ready.length) setTimeout(watchStatus, 1000);
}

async function start() {
  watchStatus();
  setControls(await api("/controls"));
  const presets = await api("/presets");
  for (const preset of presets) $("#presets").add(new Option(`${preset.name} (${preset.where})`, preset.name));
  $("#presets").addEventListener("change", async (event) => {
    const name = event.target.value;
    setControls(name ? (await api(`/presets/${encodeURIComponent(name)}`)).controls : await api("/controls"));
    schedulePreview();
  });
  $("#controls").addEventListener("submit", (event) => event.preventDefault());
  document.querySelector("[data-testid=source]").addEventListener("change", (event) => {
    if (event.target.files.length) upload(event.target.files[0]);
  });
  $("#preview").addEventListener("click", preview);
  $("#export").addEventListener("click", () => exportPreset(true));
  $("#before").addEventListener("change", (event) => {
    $("#original").hidden = !event.target.checked;
    $("#result").hidden = event.target.checked;
  });
}

start();
