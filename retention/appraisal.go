package retention

// AppraisalAction is what the archive is told to do with a dossier when its DUA ends. The rule's
// final action says it for keep and destroy; for sample, the sampling decides, and a doubt keeps.
func (d Decision) AppraisalAction() FinalAction {
	r := d.rule
	if r == nil || d.Tier == Undetermined {
		return ""
	}
	if r.FinalAction == Destroy || (r.FinalAction == Sample && !d.Sampled && !d.SamplingUnknown) {
		return Destroy
	}
	return Keep
}

// StorageRule is the rule's StorageRule for the DUC, if it names one: its id and SEDA final action
// (empty: the archive's default, RestrictAccess). An undetermined decision has none.
func (d Decision) StorageRule() (id, finalAction string) {
	if d.rule == nil || d.Tier == Undetermined {
		return "", ""
	}
	return d.rule.Storage, d.rule.StorageFinalAction
}
