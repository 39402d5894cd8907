// llama.cpp on a GGUF file written by `model export-gguf`, driven with token ids so both engines see the same input.
// Usage: node llama-side.mjs REQUEST.json   (prints one JSON object on stdout; progress on stderr)
// REQUEST: {"model": "m.gguf", "threads": 2, "prompts": [[ids...], ...], "max_tokens": 64, "top": 20,
//           "score": [{"tokens": [ids...], "from": n}, ...],
//           "bench": {"single_tokens": 64, "batch": 16, "batch_tokens": 32, "prefill_tokens": 128, "reps": 3}}
// Greedy tokens per prompt (temperature 0, never stopping at an end token); for each "score" sequence, the top
// probabilities of the next token after every position from "from" - 1 on (teacher-forced: the given tokens are fed,
// whatever llama.cpp would have chosen); with "bench", single-stream, batched and prefill rates, each the best of
// "reps" runs.
import {readFile} from "node:fs/promises";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const req = JSON.parse(await readFile(process.argv[2], "utf8"));
const threads = req.threads ?? 2;
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: req.model, gpuLayers: 0});
const out = {threads, greedy: [], scored: []};
const top = req.top ?? 20;
const sorted = probabilities => [...probabilities.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);

const ctx = await model.createContext({contextSize: 1024, sequences: 1, threads, batchSize: 512});
const seq = ctx.getSequence();
for (const prompt of req.prompts ?? []) {
    await seq.clearHistory();
    const tokens = [];
    for await (const t of seq.evaluate(prompt, {temperature: 0})) {
        tokens.push(t);
        if (tokens.length >= (req.max_tokens ?? 64)) break;
    }
    out.greedy.push(tokens);
}
for (const s of req.score ?? []) {
    await seq.clearHistory();
    // no sampling options: the probabilities are the model's own softmax, unadjusted
    const items = s.tokens.map((t, i) => (i >= s.from - 1 ? [t, {generateNext: {probabilities: true}}] : t));
    const res = await seq.controlledEvaluate(items);
    const dists = [];
    for (let i = s.from - 1; i < s.tokens.length; i++) dists.push(sorted(res[i].next.probabilities));
    out.scored.push(dists);
}

const b = req.bench;
if (b) {
    const reps = b.reps ?? 3, prompt = (req.prompts ?? [[1, 2, 3, 4, 5, 6, 7, 8]])[0];
    let single = 0, prefill = 0, batch = 0;
    for (let r = 0; r < reps; r++) {
        process.stderr.write(`llama.cpp: bench rep ${r + 1}/${reps}\n`);
        await seq.clearHistory();
        let n = 0, t1 = 0;
        for await (const t of seq.evaluate(prompt, {temperature: 0})) {
            if (++n === 1) t1 = performance.now();
            if (n >= b.single_tokens) break;
        }
        single = Math.max(single, (n - 1) / ((performance.now() - t1) / 1000));

        await seq.clearHistory();
        const long = Array.from({length: b.prefill_tokens}, (_, i) => prompt[i % prompt.length]);
        const p0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(long);
        prefill = Math.max(prefill, b.prefill_tokens / ((performance.now() - p0) / 1000));
    }
    await ctx.dispose();
    // a context of B sequences decodes them in one batch per step, as our engine's continuous batching does
    // each sequence holds its prompt and every generated token: no context shift inside the measurement
    const perSequence = prompt.length + b.batch_tokens + 8;
    const bctx = await model.createContext(
        {contextSize: b.batch * perSequence, sequences: b.batch, threads, batchSize: 512});
    const seqs = Array.from({length: b.batch}, () => bctx.getSequence());
    for (let r = 0; r < reps; r++) {
        await Promise.all(seqs.map(s => s.clearHistory()));
        const t0 = performance.now();
        const counts = await Promise.all(seqs.map(async (s, i) => {
            let n = 0;
            for await (const t of s.evaluate([prompt[0] + i, ...prompt.slice(1)], {temperature: 0})) {
                if (++n >= b.batch_tokens) break;
            }
            return n;
        }));
        batch = Math.max(batch, counts.reduce((x, y) => x + y, 0) / ((performance.now() - t0) / 1000));
    }
    out.single_tok_s = single;
    out.prefill_tok_s = prefill;
    out.batch = b.batch;
    out.batch_tok_s = batch;
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
