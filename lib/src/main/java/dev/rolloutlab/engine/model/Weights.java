package dev.rolloutlab.engine.model;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.kernels.Ops;
import dev.rolloutlab.engine.kernels.PackedMatrix;
import dev.rolloutlab.engine.kernels.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable, versioned snapshot of a model's tensors. The scheduler reads one snapshot per step, so an update
 * becomes visible at the next step boundary and never halfway through a forward pass.
 */
public final class Weights {
    /**
     * Per-layer references, resolved once so the forward pass does no map lookups; the matrices packed for the GEMM
     * kernel (the biases inside them).
     */
    record Layer(
            float[] attnNorm,
            PackedMatrix q,
            PackedMatrix k,
            PackedMatrix v,
            PackedMatrix o,
            float[] mlpNorm,
            PackedMatrix gate,
            PackedMatrix up,
            PackedMatrix down) {}

    private final long version;
    private final ModelConfig config;
    private final Map<String, Tensor> tensors;
    final float[] embed;
    final float[] finalNorm;
    final PackedMatrix lmHead;
    final Layer[] layers;
    /**
     * Packed copies by weight tensor name. They double the weights' memory: the checkpoint layout stays for checksums,
     * deltas and export, and the kernel's layout is what a step reads.
     */
    private final Map<String, PackedMatrix> packed = new HashMap<>();

    /**
     * @param previous the snapshot this one updates, whose packed matrices are reused where neither the weight nor its
     *     bias is in {@code toCheck}; null for a first snapshot
     */
    private Weights(
            long version,
            ModelConfig config,
            Map<String, Tensor> tensors,
            Collection<Tensor> toCheck,
            Weights previous) {
        for (Tensor t : toCheck) requireFinite(t);
        this.version = version;
        this.config = config;
        this.tensors = Collections.unmodifiableMap(tensors);
        Map<String, int[]> expected = expectedShapes(config);
        for (var e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                if (e.getKey().equals("lm_head.weight") && config.tieWordEmbeddings()) continue;
                throw new ModelFormatException("tensor " + e.getKey() + " is missing");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new ModelFormatException("tensor " + e.getKey() + " has shape " + t.shapeString() + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        embed = get("model.embed_tokens.weight");
        finalNorm = get("model.norm.weight");
        // the checkpoint's dtype is the precision it is served in; float16 is widened, the Vector API has no half type
        boolean bf16 = config.dtype() == DType.BF16;
        Set<String> changed = new HashSet<>();
        for (Tensor t : toCheck) changed.add(t.name());
        Packer packer = (weight, bias) -> {
            PackedMatrix reused = previous == null ? null : previous.packed.get(weight);
            if (reused == null || changed.contains(weight) || (bias != null && changed.contains(bias))) {
                int[] shape = tensors.get(weight).shape();
                reused = PackedMatrix.pack(get(weight), bias == null ? null : get(bias), shape[0], shape[1], bf16);
            }
            packed.put(weight, reused);
            return reused;
        };
        lmHead = packer.pack(
                tensors.containsKey("lm_head.weight") && !config.tieWordEmbeddings()
                        ? "lm_head.weight"
                        : "model.embed_tokens.weight",
                null);
        layers = new Layer[config.numLayers()];
        boolean bias = config.architecture().qkvBias;
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".", attn = p + "self_attn.";
            layers[i] = new Layer(
                    get(p + "input_layernorm.weight"),
                    packer.pack(attn + "q_proj.weight", bias ? attn + "q_proj.bias" : null),
                    packer.pack(attn + "k_proj.weight", bias ? attn + "k_proj.bias" : null),
                    packer.pack(attn + "v_proj.weight", bias ? attn + "v_proj.bias" : null),
                    packer.pack(attn + "o_proj.weight", null),
                    get(p + "post_attention_layernorm.weight"),
                    packer.pack(p + "mlp.gate_proj.weight", null),
                    packer.pack(p + "mlp.up_proj.weight", null),
                    packer.pack(p + "mlp.down_proj.weight", null));
        }
    }

    private interface Packer {
        PackedMatrix pack(String weight, String bias);
    }

    /**
     * A NaN or infinite weight poisons every logit downstream; refuse it where it enters, naming the first bad element.
     */
    private static void requireFinite(Tensor t) {
        float[] d = t.data();
        if (Ops.allFinite(d)) return;
        for (int j = 0; j < d.length; j++) {
            if (!Float.isFinite(d[j])) {
                throw new ModelFormatException("tensor " + t.name() + " holds a non-finite value (" + d[j]
                        + ") at element " + j + "; weights must be finite");
            }
        }
    }

    private float[] get(String name) {
        return tensors.get(name).data();
    }

    /** Validates tensors against the config and wraps them as version {@code version}. */
    public static Weights of(ModelConfig config, Map<String, Tensor> tensors, long version) {
        return new Weights(version, config, new LinkedHashMap<>(tensors), tensors.values(), null);
    }

    /** The tensor names and shapes a checkpoint of this config must have, in a canonical order. */
    public static Map<String, int[]> expectedShapes(ModelConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        int h = c.hiddenSize();
        m.put("model.embed_tokens.weight", new int[] {c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new int[] {h});
            m.put(p + "self_attn.q_proj.weight", new int[] {c.qDim(), h});
            m.put(p + "self_attn.k_proj.weight", new int[] {c.kvDim(), h});
            m.put(p + "self_attn.v_proj.weight", new int[] {c.kvDim(), h});
            if (c.architecture().qkvBias) {
                m.put(p + "self_attn.q_proj.bias", new int[] {c.qDim()});
                m.put(p + "self_attn.k_proj.bias", new int[] {c.kvDim()});
                m.put(p + "self_attn.v_proj.bias", new int[] {c.kvDim()});
            }
            m.put(p + "self_attn.o_proj.weight", new int[] {h, c.qDim()});
            m.put(p + "post_attention_layernorm.weight", new int[] {h});
            m.put(p + "mlp.gate_proj.weight", new int[] {c.intermediateSize(), h});
            m.put(p + "mlp.up_proj.weight", new int[] {c.intermediateSize(), h});
            m.put(p + "mlp.down_proj.weight", new int[] {h, c.intermediateSize()});
        }
        m.put("model.norm.weight", new int[] {h});
        if (!c.tieWordEmbeddings()) m.put("lm_head.weight", new int[] {c.vocabSize(), h});
        return m;
    }

    /**
     * A new snapshot with some tensors replaced (same names, same shapes), as version {@code newVersion}. Unchanged
     * tensors are shared, so a partial update costs only what it replaces.
     */
    public Weights withUpdates(Map<String, Tensor> updates, long newVersion) {
        Map<String, Tensor> next = new LinkedHashMap<>(tensors);
        List<Tensor> changed = new ArrayList<>();
        for (var e : updates.entrySet()) {
            Tensor old = tensors.get(e.getKey());
            if (old == null) throw new ModelFormatException("update names unknown tensor " + e.getKey());
            if (!old.sameShape(e.getValue())) {
                throw new ModelFormatException("update of tensor " + e.getKey() + " has shape "
                        + e.getValue().shapeString() + ", expected " + old.shapeString());
            }
            Tensor t = new Tensor(e.getKey(), old.shape(), e.getValue().data());
            next.put(e.getKey(), t);
            changed.add(t);
        }
        return new Weights(newVersion, config, next, changed, this);
    }

    public long version() {
        return version;
    }

    public ModelConfig config() {
        return config;
    }

    /** All tensors in checkpoint order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** Bytes of the packed matrices a forward pass reads (the norms aside), in the precision they are held in. */
    public long matrixBytes() {
        long n = 0;
        for (PackedMatrix m : packed.values()) n += m.bytes();
        return n;
    }

    /** The same tensors and packed matrices as version {@code v}: nothing is copied. */
    public Weights relabeled(long v) {
        return new Weights(v, config, new LinkedHashMap<>(tensors), List.of(), this);
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.data().length;
        return n;
    }

    /**
     * The checksum sglang-jax's weight tooling reports: float32 sum of the first 1024 elements of each of the first 4
     * tensors, in checkpoint order.
     */
    public double checksum() {
        return checksum(new ArrayList<>(tensors.values()));
    }

    public static double checksum(List<Tensor> ordered) {
        if (ordered.isEmpty()) throw new IllegalStateException("no tensors to checksum");
        float total = 0f;
        for (int i = 0; i < Math.min(4, ordered.size()); i++) {
            float[] d = ordered.get(i).data();
            float s = 0f;
            for (int j = 0; j < Math.min(1024, d.length); j++) s += d[j];
            total += s;
        }
        return total;
    }
}
