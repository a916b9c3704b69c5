"""Reports (HTML, Excel) and the disclosure control every published output passes through."""
