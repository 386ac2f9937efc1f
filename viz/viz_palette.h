/*
 * viz_palette: the view's colours, one place for all of them.
 *
 * The state colours are the Okabe-Ito palette (Okabe and Ito, "Color
 * Universal Design", 2008), distinguishable with the common forms of
 * colour blindness; every state also has a shape and a text tag, so no
 * meaning rests on colour alone. The theme is light (dark text on a near
 * white ground), which keeps its contrast on a washed-out projector.
 * Colours are 0xRRGGBB.
 */
#ifndef CHANSIM_VIZ_PALETTE_H
#define CHANSIM_VIZ_PALETTE_H

/* Okabe-Ito. */
#define VIZ_OI_BLACK 0x000000u
#define VIZ_OI_ORANGE 0xE69F00u
#define VIZ_OI_SKY 0x56B4E9u
#define VIZ_OI_GREEN 0x009E73u
#define VIZ_OI_YELLOW 0xF0E442u
#define VIZ_OI_BLUE 0x0072B2u
#define VIZ_OI_VERMILLION 0xD55E00u
#define VIZ_OI_PURPLE 0xCC79A7u

/* The theme. */
#define VIZ_BG 0xF4F3EEu          /* window ground */
#define VIZ_PANEL 0xFFFFFFu       /* cards and panels */
#define VIZ_PANEL_ALT 0xE9E8E2u   /* header, timeline ground, empty bars */
#define VIZ_BORDER 0x8C8C8Cu      /* card outlines */
#define VIZ_INK 0x161616u         /* text */
#define VIZ_INK_MUTED 0x555555u   /* secondary text */
#define VIZ_INK_FAINT 0x9A9A9Au   /* future markers, hints */
#define VIZ_GREY 0xBDBDBDu        /* waiting on nothing the view can name */
#define VIZ_SELECT 0x161616u      /* outline of the selected item */

/* What each colour means. */
#define VIZ_C_RUNNING VIZ_OI_GREEN
#define VIZ_C_READY VIZ_OI_YELLOW
#define VIZ_C_CHAN VIZ_OI_SKY
#define VIZ_C_SELECT VIZ_OI_BLUE
#define VIZ_C_SLEEP VIZ_OI_PURPLE
#define VIZ_C_SYNC VIZ_OI_ORANGE
#define VIZ_C_FAIL VIZ_OI_VERMILLION
#define VIZ_C_QUEUE VIZ_OI_BLUE
#define VIZ_C_CLOSED VIZ_OI_GREEN    /* breaker closed: requests flow */
#define VIZ_C_HALF VIZ_OI_YELLOW     /* breaker half-open: trial requests */
#define VIZ_C_OPEN VIZ_OI_VERMILLION /* breaker open: short-circuiting */
#define VIZ_C_LEADER VIZ_OI_ORANGE   /* the leader's crown */
#define VIZ_C_WAIT 0x3C4A5Au         /* arrow: a blocked goroutine waits on this */
#define VIZ_C_HELD 0x9A6700u         /* arrow: a lock is held by this goroutine */
#define VIZ_C_TIMER 0x161616u        /* the time left of a timed wait */

#endif
