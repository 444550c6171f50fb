/**
 * The onebit playground: run and train 1-bit models in the browser. Three tabs — Run, Train, Look inside — over two
 * workers (the model worker and the training worker), so loading, generating and training never block the page.
 * What the browser or the hosting lacks (cross-origin isolation, WebGL2) is said at the top, and the rest works.
 */
import "./styles.css";
import { capabilities, isolationProblem } from "./env/capabilities";
import { memoryBudget } from "./env/memory-budget";
import { InspectTab } from "./inspect/inspect-tab";
import { createModelClient } from "./run/model-client";
import { RunTab } from "./run/run-tab";
import { createTrainClient } from "./train/train-client";
import { TrainTab } from "./train/train-tab";
import { h } from "./ui/dom";
import { MessageBox } from "./ui/message-box";
import { tabs } from "./ui/tabs";

const caps = capabilities();
const top = new MessageBox();
const problem = isolationProblem(caps);
if (problem) top.show("warning", problem).dataset.testid = "isolation-warning";
if (!caps.webgl2) top.show("warning", "This browser has no WebGL2: the webgl backends (inference and training) cannot run; wasm and js can.");

const modelClient = createModelClient();
const trainClient = createTrainClient();
const budget = () => memoryBudget(location.search, caps.deviceMemoryGiB);
const run = new RunTab(modelClient, caps, budget);
const inspect = new InspectTab(modelClient, () => run.hasModel);
const train = new TrainTab(trainClient, caps);
modelClient.onRestart = (reason) => run.modelLost(reason);
trainClient.onRestart = (reason) => train.messages.show("error", reason);

const { nav, show } = tabs([
  { id: "run", title: "Run", panel: run.element },
  { id: "train", title: "Train", panel: train.element },
  { id: "inspect", title: "Look inside", panel: inspect.element, onShow: () => void inspect.update() },
]);
run.onModelChanged = () => {
  if (!inspect.element.hidden) void inspect.update();
};
train.onRun = async (name, spec, weights, tokenizer) => {
  show("run");
  await run.openTrained(name, spec, weights, tokenizer);
};

const backendsLine = `${caps.cores} cores · ${caps.crossOriginIsolated ? "cross-origin isolated (wasm threads)" : "not cross-origin isolated"} · ${caps.webgl2 ? "WebGL2" : "no WebGL2"}`;
document.body.append(
  h(
    "header",
    {},
    h("h1", {}, "onebit playground"),
    h("p", { class: "tagline" }, "Run and train 1-bit LLMs — BitNet, BitNet b1.58, BitNet a4.8 — in your browser. Nothing leaves this page."),
    h("p", { class: "caps", "data-testid": "capabilities" }, backendsLine),
  ),
  top.element,
  nav,
  h("main", {}, run.element, train.element, inspect.element),
  h("footer", {}, "onebit · ternary weights packed 2 bits each, integer kernels in wasm SIMD and WebGL · ", h("a", { href: "https://arxiv.org/abs/2402.17764" }, "BitNet b1.58")),
);
show(location.hash.slice(1) || "run");
document.body.dataset.ready = "true";
