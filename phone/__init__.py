"""The phone hotline: a SIP line (PJSIP) that answers calls with the same voice chain as the speakers."""
