// The studio page: controls made from the server's /api/controls, previews streamed from
// /api/preview/<id>/events. Every action goes through the JSON endpoints under /api.

const token = new URLSearchParams(location.search).get("token");
const page = Math.random().toString(36).slice(2);  // our previews cancel only our own
const $ = (selector) => document.querySelector(selector);
const state = { source: null, video: null, events: null, history: [], timer: null, job: null, jobsTimer: null };

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
  for (const select of [$("#grid-x"), $("#grid-y")]) {
    const keep = select.value;
    select.replaceChildren(...(select.id === "grid-y" ? [new Option("(none)", "")] : []),
                           ...specs.map((spec) => new Option(spec.name, spec.name)));
    select.value = keep || (select.id === "grid-x" ? "dream.step_size" : "");
  }
}

function schedulePreview() {
  if (!state.source) return;  // nothing to dream yet
  clearTimeout(state.timer);
  state.timer = setTimeout(preview, 120);
}

function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => line);
}

function grid() {
  const axis = (name, values) => ({ name, values: lines(values) });
  const y = $("#grid-y").value;
  return run("/grid", { x: axis($("#grid-x").value, $("#grid-x-values").value),
                        y: y ? axis(y, $("#grid-y-values").value) : null });
}

function preview() {
  return run("/preview", {});
}

async function run(path, extra) {
  clearTimeout(state.timer);  // a control left just now (its change event) must not cancel this one
  if (!state.source) return showError("choose an image or a video first");
  const result = $("#result");
  if (state.events) state.events.close();  // the server cancels the older one at its next step
  showError("");
  result.dataset.state = "working";
  let id;
  try {
    ({ id } = await post(path, { page, source: state.source.id, settings: settings(), ...extra }));
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
  events.addEventListener("cell", (message) => {
    const data = JSON.parse(message.data);
    result.src = data.image;
    $("#caption").textContent = `cell ${data.index + 1} of ${data.cells}: ${data.label}`;
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

async function send(path, file) {
  const body = new FormData();
  body.append("file", file);
  const headers = token ? { Authorization: `token ${token}` } : {};
  const response = await fetch(`/api${path}`, { method: "POST", body, headers });
  const made = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(made.detail || response.statusText);
  return made;
}

async function restore(file, orUpload) {
  try {
    const made = await send("/restore", file);
    setControls(made.controls);
    showError("");
    $("#caption").textContent = `settings of ${file.name} (a ${made.command})`;
    schedulePreview();
  } catch (error) {
    if (orUpload) return upload(file);  // a picture without settings: dream it instead
    showError(error.message);
  }
}

async function upload(file) {
  let made;
  try {
    made = await send("/source", file);
  } catch (error) {
    $("#result").dataset.state = "error";
    return showError(error.message);
  }
  adoptSource(made);
}

function adoptSource(made) {
  useSource(made);
  $("#timebox").hidden = !made.video;
  if (made.video) {
    state.video = made.video;
    const time = $("#time");
    time.step = 1 / (made.video.fps || 25);
    time.max = Math.max(0, (made.video.duration || 0) - time.step);  // the last frame's start
    time.value = 0;
    $("#time-value").textContent = "0 s";
  }
}

function useSource(made) {
  state.source = made;
  $("#original").src = made.image;
  $("#result").src = made.image;
  $("#caption").textContent = `${made.name}, ${made.width}x${made.height}`;
  preview();
}

async function pickFrame() {
  const time = Number($("#time").value);
  $("#time-value").textContent = `${time.toFixed(2)} s`;
  try {
    useSource(await post("/frame", { video: state.video.id, time }));
  } catch (error) {
    showError(error.message);
  }
}

async function render() {
  const command = $("#render-command").value;
  const source = command === "video" ? state.video && state.video.id
    : command === "zoom" && !state.source ? null : state.source && state.source.id;
  if (command !== "zoom" && !source) return showError(command === "video" ? "choose a video first"
    : "choose an image or a video first");
  try {
    const job = await post("/render", { command, source, settings: settings() });
    state.job = job.id;
    showError("");
    watchJobs();
  } catch (error) {
    showError(error.message);
  }
}

function jobLine(job) {
  const item = document.createElement("li");
  item.dataset.job = job.id;
  item.dataset.state = job.state;
  item.textContent = `${job.command} ${job.output}: ${job.state}` + (job.total ? ` ${job.done}/${job.total}` : "")
    + (job.error ? ` — ${job.error}` : "");
  if (job.state === "interrupted") {
    const again = document.createElement("button");
    again.textContent = "Resume";
    again.dataset.testid = "resume";
    again.addEventListener("click", () => post(`/jobs/${job.id}/resume`, {}).then(watchJobs));
    item.append(again);
  }
  return item;
}

function galleryItem(job) {
  const url = `/api/files/${encodeURIComponent(job.output)}` + (token ? `?token=${encodeURIComponent(token)}` : "");
  const box = document.createElement("div");
  const media = job.output.endsWith(".mp4") ? document.createElement("video") : document.createElement("img");
  media.src = url;
  if (media.tagName === "VIDEO") { media.controls = true; media.loop = true; media.muted = true; }
  const link = document.createElement("a");
  link.href = url;
  link.textContent = job.output;
  box.append(media, link);
  return box;
}

async function watchJobs() {
  clearTimeout(state.jobsTimer);
  const jobs = await api("/jobs").catch(() => []);
  $("#jobs").replaceChildren(...jobs.map(jobLine));
  const done = jobs.filter((job) => job.state === "done");
  if ($("#gallery").children.length !== done.length) $("#gallery").replaceChildren(...done.map(galleryItem));
  const current = jobs.find((job) => job.id === state.job) || jobs.find((job) => job.state === "running");
  if (current) {
    state.job = current.id;
    $("#progress").max = current.total || 1;
    $("#progress").value = current.state === "done" ? $("#progress").max : current.done;
    $("#job-state").textContent = `${current.state} ${current.done}/${current.total || "?"}`
      + (current.eta ? `, about ${Math.ceil(current.eta)} s left` : "");
    if (current.state === "running" && current.shown > (state.shown || 0)) {  // its latest frame
      state.shown = current.shown;
      $("#result").src = `/api/jobs/${current.id}/latest?n=${current.shown}`
        + (token ? `&token=${encodeURIComponent(token)}` : "");
      $("#caption").textContent = `rendering: frame ${current.done}`;
    }
  }
  if (jobs.some((job) => job.state === "running" || job.state === "queued")) {
    state.jobsTimer = setTimeout(watchJobs, 1000);
  }
}

async function watchStatus() {
  const status = await api("/status").catch((error) => ({ error: error.message }));
  if (status.source && !state.source) adoptSource(status.source);  // `dreamvideo studio INPUT`
  $("#status").textContent = status.error ? status.error
    : status.loading ? `${status.loading}…` : status.ready && status.ready.length ? `ready (${status.ready.join(", ")})`
    : "starting…";
  if (!status.ready || !status.ready.length) setTimeout(watchStatus, 1000);
}

function listen() {  // at once, before anything loads: a file chosen meanwhile is not lost
  $("#presets").addEventListener("change", async (event) => {
    const name = event.target.value;
    setControls(name ? (await api(`/presets/${encodeURIComponent(name)}`)).controls : await api("/controls"));
    schedulePreview();
  });
  $("#controls").addEventListener("submit", (event) => event.preventDefault());
  document.querySelector("[data-testid=source]").addEventListener("change", (event) => {
    if (event.target.files.length) upload(event.target.files[0]);
  });
  document.querySelector("[data-testid=restore]").addEventListener("change", (event) => {
    if (event.target.files.length) restore(event.target.files[0], false);
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) restore(event.dataTransfer.files[0], true);
  });
  $("#preview").addEventListener("click", preview);
  $("#render").addEventListener("click", render);
  $("#render-command").addEventListener("change", async (event) => {
    const kept = settings();  // the values set so far stay where the new controls share a name
    setControls(await api(`/controls?command=${event.target.value}`));
    for (const [name, value] of Object.entries(kept)) {
      const input = $("#controls").elements.namedItem(name);
      if (input) input.value = value;
    }
  });
  $("#cancel").addEventListener("click", () => state.job && post(`/jobs/${state.job}/cancel`, {}).then(watchJobs));
  $("#grid").addEventListener("click", grid);
  $("#time").addEventListener("change", pickFrame);
  $("#export").addEventListener("click", () => exportPreset(true));
  $("#before").addEventListener("change", (event) => {
    $("#original").hidden = !event.target.checked;
    $("#result").hidden = event.target.checked;
  });
}

async function start() {
  listen();
  watchStatus();
  watchJobs();
  const specs = await api("/controls");
  if (!$("#controls").elements.length) setControls(specs);  // unless a restore's came first
  const presets = await api("/presets");
  for (const preset of presets) $("#presets").add(new Option(`${preset.name} (${preset.where})`, preset.name));
}

start();
