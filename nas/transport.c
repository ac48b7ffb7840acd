/* Transport helpers (include/lpnas/transport.h). The MPI transport itself
 * is mpi/transport_mpi.c, outside the library. */
#include "lpnas/transport.h"

void lpnas_transport_free(lpnas_transport *t)
{
    if (t && t->destroy)
        t->destroy(t);
}
