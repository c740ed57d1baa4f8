"""The alliance dashboard: what the published catalogue holds, by disease, country, source type,
custodian and month, with every computed patient count under the small-cell rule."""
