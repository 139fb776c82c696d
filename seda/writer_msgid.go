package seda

// SetMessageIdentifier replaces the MessageIdentifier given in the Header, before Close writes the
// manifest: a packaging stage that names its SIPs after their content (the key range of the
// dossiers they hold) knows the identifier only once the last object is in.
func (w *Writer) SetMessageIdentifier(id string) error {
	if err := w.usable(); err != nil {
		return err
	}
	v, err := token("MessageIdentifier", id)
	if err != nil {
		return err
	}
	w.h.MessageIdentifier = v
	return nil
}
