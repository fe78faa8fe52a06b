/* report (STUB: being implemented). */
#include "app.h"

int report_status(struct app *a, bool json) { return 3; }
int report_check(struct app *a) { return 3; }
