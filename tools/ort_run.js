#!/usr/bin/env node
// Runs ONNX models with ONNX Runtime (npm onnxruntime-node, CPU) for the
// tests: one process for many models, so the suite stays fast.
//
//   node tools/ort_run.js LIST
//
// LIST has one job per line: "MODEL.onnx INPUT.f32 N C H W OUT_PREFIX".
// INPUT.f32 holds N*C*H*W little-endian float32 values (the "image" input);
// every output of the model is written as OUT_PREFIX.<output name>.f32.
// Exit status: 0 done, 1 a model failed, 3 ONNX Runtime is not installed.
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
    const dirs = [];
    if (process.env.LPNAS_ORT_DIR) dirs.push(process.env.LPNAS_ORT_DIR);
    dirs.push(path.join(__dirname, 'ort', 'node_modules', 'onnxruntime-node'));
    for (const d of dirs) {
        try {
            return require(d);
        } catch (e) {
            if (e.code !== 'MODULE_NOT_FOUND') throw e;
        }
    }
    return null;
}

async function main() {
    const list = process.argv[2];
    if (!list || list === '--help') {
        console.log('usage: node tools/ort_run.js LIST (see the comment at the top of this file)');
        process.exit(list ? 0 : 2);
    }
    const ort = loadOrt();
    if (!ort) {
        console.error('ONNX Runtime not installed: run tools/install_ort.sh');
        process.exit(3);
    }
    const lines = fs.readFileSync(list, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const opts = {intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu']};
    for (const line of lines) {
        const [model, input, n, c, h, w, prefix] = line.trim().split(/\s+/);
        const dims = [n, c, h, w].map(Number);
        try {
            const buf = fs.readFileSync(input);
            const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
            if (data.length !== dims.reduce((a, b) => a * b, 1))
                throw new Error(`${input}: ${data.length} values, expected ${dims.join('x')}`);
            const session = await ort.InferenceSession.create(model, opts);
            const out = await session.run({image: new ort.Tensor('float32', data, dims)});
            for (const name of session.outputNames) {
                const t = out[name];
                if (t.type !== 'float32') throw new Error(`${model}: output ${name} is ${t.type}, expected float32`);
                fs.writeFileSync(`${prefix}.${name}.f32`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
            }
        } catch (e) {
            console.error(`ort_run: ${model}: ${e.message}`);
            process.exit(1);
        }
    }
    console.log(`ort_run: ${lines.length} models run by ONNX Runtime ${ort.env.versions.common}`);
}

main();
