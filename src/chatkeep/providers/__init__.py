"""Model providers behind one narrow contract (see base.Provider)."""
