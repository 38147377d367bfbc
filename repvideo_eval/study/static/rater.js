// Rater page: fetch the next task, show both videos looping in sync, send the choice, repeat.
// The page learns nothing about the models: only the task id, prompt, question and two video URLs.
"use strict";

(function () {
  const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const $ = (id) => document.getElementById(id);
  const left = $("left-video");
  const right = $("right-video");
  const buttons = Array.from(document.querySelectorAll(".choices button"));
  let task = null;
  let busy = true;
  const KEYS = { ArrowLeft: "left", a: "left", A: "left",
                 ArrowRight: "right", l: "right", L: "right",
                 ArrowDown: "tie", t: "tie", T: "tie" };

  function setState(state) { document.body.dataset.state = state; }
  function show(section) {
    for (const id of ["task", "done", "failure"]) $(id).hidden = id !== section;
  }
  function fail(message) {
    busy = true;
    setState("error");
    $("failure-text").textContent = message;
    show("failure");
  }
  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  // Retries network failures and server errors (5xx) with backoff; a vote is idempotent.
  async function request(url, options) {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(url, Object.assign({ cache: "no-store" }, options));
        if (response.status < 500) return response;
      } catch (err) { /* network: retry */ }
      $("status").textContent = "Connection problem, retrying...";
      await sleep(Math.min(8000, 500 * 2 ** attempt));
    }
  }

  async function loadNext() {
    busy = true;
    setState("loading");
    const response = await request("/api/next?token=" + encodeURIComponent(token));
    if (response.status === 204) {
      left.removeAttribute("src");
      right.removeAttribute("src");
      setState("done");
      show("done");
      return;
    }
    if (response.status !== 200) {
      fail(response.status === 401 ? "This link is not part of the study." : "Please reload.");
      return;
    }
    task = await response.json();
    $("question").textContent = task.question;
    $("prompt").textContent = task.prompt;
    $("progress-text").textContent = "Comparison " + (task.done + 1) + " of " + task.total;
    $("progress-bar").max = task.total;
    $("progress-bar").value = task.done;
    $("choose-tie").hidden = !task.allow_ties;
    $("tie-hint").hidden = !task.allow_ties;
    $("task").dataset.taskId = task.task_id;
    $("task").dataset.criterion = task.criterion;
    $("status").textContent = "";
    startVideos(task.left, task.right);
    show("task");
    buttons.forEach((b) => { b.disabled = false; });
    busy = false;
    setState("ready");
  }

  // Both videos start together once both can play, and the right one follows the left one.
  function startVideos(leftUrl, rightUrl) {
    let ready = 0;
    const onReady = () => {
      ready += 1;
      if (ready === 2) restart();
    };
    for (const [video, url] of [[left, leftUrl], [right, rightUrl]]) {
      video.addEventListener("canplay", onReady, { once: true });
      video.src = url;
      video.load();
    }
  }
  function restart() {
    for (const video of [left, right]) {
      video.currentTime = 0;
      video.play().catch(() => {});
    }
  }
  function keepInSync() {
    if (!left.paused && !right.seeking && right.readyState >= 2 &&
        Math.abs(right.currentTime - left.currentTime) > 0.08) {
      right.currentTime = left.currentTime;
    }
    requestAnimationFrame(keepInSync);
  }
  requestAnimationFrame(keepInSync);

  async function vote(choice) {
    if (busy || !task || (choice === "tie" && !task.allow_ties)) return;
    busy = true;
    setState("sending");
    buttons.forEach((b) => { b.disabled = true; });
    const body = JSON.stringify({ token: token, task_id: task.task_id, choice: choice });
    const response = await request("/api/vote", {
      method: "POST", headers: { "content-type": "application/json" }, body: body,
    });
    if (response.status === 200 || response.status === 409) {
      await loadNext();  // 409: this task was answered before (another tab); move on
    } else {
      fail("Your answer could not be saved (" + response.status + "). Please reload the page.");
    }
  }

  buttons.forEach((b) => b.addEventListener("click", () => vote(b.dataset.choice)));
  document.addEventListener("keydown", (event) => {
    if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "r" || event.key === "R") { restart(); return; }
    const choice = KEYS[event.key];
    if (choice) { event.preventDefault(); vote(choice); }
  });

  loadNext();
})();
