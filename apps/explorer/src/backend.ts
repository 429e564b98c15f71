/**
 * The tfjs backend of the page: WebGPU where the browser has it, else WebGL on a GPU, else
 * WebAssembly (SIMD), else plain JavaScript (`cpu`). WebGL on a software rasteriser (a machine
 * without GPU: SwiftShader, llvmpipe) is skipped for WebAssembly, which is several times faster
 * there. `?backend=webgl|webgpu|wasm|cpu` asks for one. Returns what was chosen and why the
 * better ones were not.
 */
import * as tf from '@tensorflow/tfjs';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

async function register(name: BackendName): Promise<void> {
  if (name === 'webgpu') {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) throw new Error('navigator.gpu is absent');
    if (!(await gpu.requestAdapter())) throw new Error('no WebGPU adapter');
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
  }
}

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The WebGL renderer's name (unmasked when the browser allows), or undefined without WebGL. */
export function webglRenderer(): string | undefined {
  const c = document.createElement('canvas');
  const gl = (c.getContext('webgl2') ?? c.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return undefined;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

export async function chooseBackend(requested?: string | null): Promise<{ name: string; notes: string[] }> {
  const notes: string[] = [];
  let order: BackendName[] = [...BACKENDS];
  if (requested) {
    if (!(BACKENDS as readonly string[]).includes(requested)) notes.push(`?backend=${requested} is not one of ${BACKENDS.join(', ')}; choosing automatically`);
    else order = [requested as BackendName, ...BACKENDS.filter((b) => b !== requested)];
  }
  for (const name of order) {
    if (name === 'webgl' && requested !== 'webgl') {
      // a software rasteriser (no GPU: SwiftShader, llvmpipe) runs the convolutions far slower than WebAssembly
      const r = webglRenderer();
      if (r && SOFTWARE_GL.test(r)) {
        notes.push(`webgl: software renderer (${r}), slower than WebAssembly on this CPU`);
        continue;
      }
    }
    try {
      await register(name);
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, notes };
      }
      notes.push(`${name}: could not initialise`);
    } catch (e) {
      notes.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${notes.join('; ')})`);
}
