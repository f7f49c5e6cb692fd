package tenant

// mergePatch applies patch to target as RFC 7386 JSON Merge Patch: a member
// set to null removes the key, an object merges recursively, and anything
// else replaces the target's value. It returns a new document and leaves
// both arguments unchanged.
func mergePatch(target, patch map[string]any) map[string]any {
	out := make(map[string]any, len(target)+len(patch))
	for k, v := range target {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		patchObj, isObj := v.(map[string]any)
		if !isObj {
			out[k] = v
			continue
		}
		targetObj, _ := out[k].(map[string]any)
		out[k] = mergePatch(targetObj, patchObj)
	}
	return out
}
