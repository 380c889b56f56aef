"""The matching service: the read model of relocation demand and plot supply, the optimiser, proposals and their two-party acceptance."""
