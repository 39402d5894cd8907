package dev.rolloutlab.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/** The ranked merges of a byte-level BPE vocabulary, applied to one pre-tokenised word at a time. Thread-safe. */
final class BytePairMerges {
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> mergeRanks;

    BytePairMerges(Map<String, Integer> vocab, List<String[]> merges) {
        this.vocab = vocab;
        mergeRanks = new HashMap<>(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) mergeRanks.put(merges.get(i)[0] + " " + merges.get(i)[1], i);
    }

    /**
     * Byte-level BPE of one word, merging the lowest-ranked adjacent pair first (leftmost among equals) as Hugging Face
     * does, with a heap of candidate pairs over a linked list of pieces: O(n log n) in the word's bytes, where
     * rescanning every pair after each merge was quadratic (a 12k-character word took 2.2 s).
     */
    int[] apply(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        int n = bytes.length;
        String[] piece = new String[n];
        int[] next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            piece[i] = String.valueOf(Tokenizer.byteChar(bytes[i] & 0xff));
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // a candidate is (rank << 32 | left position); it is stale once either piece changed, checked when popped
        PriorityQueue<Long> heap = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) push(heap, piece, i, i + 1);
        int count = n;
        while (!heap.isEmpty()) {
            long top = heap.poll();
            int left = (int) top, rank = (int) (top >>> 32);
            int right = piece[left] == null ? -1 : next[left];
            if (right < 0) continue;
            Integer current = mergeRanks.get(piece[left] + " " + piece[right]);
            if (current == null || current != rank) continue;
            piece[left] = piece[left] + piece[right];
            piece[right] = null;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            count--;
            if (prev[left] >= 0) push(heap, piece, prev[left], left);
            if (next[left] >= 0) push(heap, piece, left, next[left]);
        }
        int[] ids = new int[count];
        int k = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            Integer id = vocab.get(piece[i]);
            if (id == null) throw new IllegalStateException("tokenizer.json: piece '" + piece[i] + "' has no id");
            ids[k++] = id;
        }
        return ids;
    }

    private void push(PriorityQueue<Long> heap, String[] piece, int left, int right) {
        Integer r = mergeRanks.get(piece[left] + " " + piece[right]);
        if (r != null) heap.add(((long) r << 32) | left);
    }
}
