// Scanned by relay-compiler only (see ../../relay-check); never run.
const graphql = String.raw;

export const bookingFragment = graphql`
  fragment RelayCheckBooking_booking on Booking {
    id
    rowId
    status
    appointmentDate
    calls(first: 3) {
      totalCount
      nodes {
        id
        status
        duration
      }
    }
    customer {
      id
      name
    }
  }
`;
