/* main (STUB: being implemented). */
#include "app.h"

int main(int argc, char **argv)
{
        return 0;
}
