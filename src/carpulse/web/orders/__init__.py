"""The order page: a paid order's live report progress, its reports, receipt, charging invoices and photos."""
